"""The GraphQL type of organisations: the distributor and its partners."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.organisations import OrganisationKind as DomainOrganisationKind
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_tables import organisations as models

OrganisationKind = described_enum(
    DomainOrganisationKind,
    name="OrganisationKind",
    description="Whether an organisation runs Prism or resells through it.",
    values={
        "DISTRIBUTOR": "The distributor that runs Prism and sells the programs; there is one.",
        "PARTNER": "A partner (reseller, MSP) that sells the distributor's programs to its "
        "customers.",
    },
)


@strawberry.type(description="The distributor or one of its partners (MSPs).")
class Organisation(relay.Node):
    id: relay.NodeID[int]
    kind: OrganisationKind = strawberry.field(  # type: ignore[valid-type]
        description="The distributor or a partner."
    )
    name: str = strawberry.field(description="The organisation's name; unique among partners.")
    domain: str | None = strawberry.field(
        description="Its internet domain, e.g. contoso-partners.example: the primary and "
        "billing contacts of the customers a partner orders for have addresses on it. Null "
        "when none is recorded."
    )
    created_at: datetime = strawberry.field(description="When the organisation was added.")
    own_time_zone: str | None = strawberry.field(
        description=(
            "The time zone set on this organisation itself (an IANA name); null when it has "
            "none: a partner then follows the distributor's zone, the distributor works in UTC."
        )
    )

    @strawberry.field(
        description=(
            "The time zone this organisation works in (an IANA name, e.g. "
            '"Australia/Sydney"): its own, else the distributor\'s, else "UTC". Its "today" '
            "is the date in this zone: the earliest start date of its orders and, for the "
            "distributor, when a month is over and can be billed."
        )
    )
    async def time_zone(self, info: Info) -> str:
        if self.own_time_zone:
            return self.own_time_zone
        return await info.context.loaders.time_zone_by_organisation.load(self.id)

    @classmethod
    def from_model(cls, row: models.Organisation) -> Organisation:
        return cls(
            id=row.id,
            kind=row.kind,
            name=row.name,
            domain=row.domain,
            created_at=row.created_at,
            own_time_zone=row.time_zone,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Organisation | None]:
        return await load_nodes(info.context.loaders.organisation_by_id, node_ids, cls.from_model)


@strawberry.type(description="A page of partners.")
class OrganisationConnection(Counted, relay.Connection[Organisation]):
    pass
