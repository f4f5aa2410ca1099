"""An organisation's own settings: its time zone (issue 12)."""

from __future__ import annotations

from sqlalchemy import select

from prism_domain.access import Scope
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.organisations import parse_time_zone
from prism_graph.access import managed_organisations
from prism_graph.database import Database
from prism_tables.organisations import Organisation


async def set_time_zone(
    database: Database, scope: Scope | None, organisation_id: int, time_zone: str | None
) -> Organisation | list[FieldError]:
    """Set (or, with None, clear) the organisation's zone; nothing changes on an error."""
    zone: str | None = None
    if time_zone is not None:
        parsed = parse_time_zone(time_zone)
        if isinstance(parsed, FieldError):
            return [parsed]
        zone = parsed
    async with database.unit_of_work() as uow:
        row = await uow.session.scalar(
            select(Organisation).where(
                Organisation.id == organisation_id, managed_organisations(scope)
            )
        )
        if row is None:
            return [FieldError("id", ErrorCode.NOT_FOUND, "No such organisation.")]
        row.time_zone = zone
        await uow.commit()
        return row
