from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.organisations import OrganisationKind as DomainOrganisationKind
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_tables import organisations as models

OrganisationKind = strawberry.enum(DomainOrganisationKind, name="OrganisationKind")


@strawberry.type(description="The distributor or one of its partners (MSPs).")
class Organisation(relay.Node):
    id: relay.NodeID[int]
    kind: OrganisationKind  # type: ignore[valid-type]
    name: str
    domain: str | None
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
            own_time_zone=row.time_zone,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Organisation | None]:
        return await load_nodes(info.context.loaders.organisation_by_id, node_ids, cls.from_model)
