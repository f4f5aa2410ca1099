"""The organisations' DataLoaders: an organisation by id, and the time zone in force for it."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import or_, select
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_domain.organisations import OrganisationKind, time_zone_in_force
from prism_graph import access
from prism_graph.common.loaders import RequestLoaders, by_id_loader
from prism_graph.database import RequestReader
from prism_tables.organisations import Organisation


class OrganisationLoaders(RequestLoaders):
    @functools.cached_property
    def organisation_by_id(self) -> DataLoader[int, Organisation | None]:
        return by_id_loader(self.reader, Organisation, access.visible_organisations, self.scope)

    @functools.cached_property
    def time_zone_by_organisation(self) -> DataLoader[int, str]:
        """`TimeZoneByOrganisation`: the zone in force (its own, else the distributor's, else
        UTC) of each organisation, with the distributor's, in one statement."""
        return time_zone_loader(self.reader, self.scope)


def time_zone_loader(reader: RequestReader, scope: Scope | None) -> DataLoader[int, str]:
    async def load(ids: Sequence[int]) -> list[str]:
        rows = await reader.rows(
            select(Organisation.id, Organisation.kind, Organisation.time_zone).where(
                or_(
                    Organisation.id.in_(set(ids)),
                    Organisation.kind == OrganisationKind.DISTRIBUTOR,
                ),
                access.visible_organisations(scope),
            )
        )
        own = {pk: zone for pk, _, zone in rows}
        distributor = next(
            (zone for _, kind, zone in rows if kind is OrganisationKind.DISTRIBUTOR), None
        )
        return [time_zone_in_force(own.get(i), distributor) for i in ids]

    return DataLoader(load_fn=load)
