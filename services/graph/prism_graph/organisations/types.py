from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.organisations import OrganisationKind as DomainOrganisationKind
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.organisations import models

OrganisationKind = strawberry.enum(DomainOrganisationKind, name="OrganisationKind")


@strawberry.type(description="The distributor or one of its partners (MSPs).")
class Organisation(relay.Node):
    id: relay.NodeID[int]
    kind: OrganisationKind  # type: ignore[valid-type]
    name: str
    domain: str | None

    @classmethod
    def from_model(cls, row: models.Organisation) -> Organisation:
        return cls(id=row.id, kind=row.kind, name=row.name, domain=row.domain)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Organisation | None]:
        return await load_nodes(info.context.loaders.organisation_by_id, node_ids, cls.from_model)
