"""Whose today: the clock, and the calendar date in an organisation's time zone.

Every business "today" in the API reads `now()` here and turns it into a date with the zone
of the organisation the rule is about (docs/psa-sync.md, "Time zones"): the distributor's
for billing and its price list, the ordering partner's for an order's start date and its
prices, the partner's for whether an Autotask contract is in force. Tests replace `now`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select

from prism_domain.organisations import OrganisationKind, time_zone_in_force, today_in
from prism_tables.organisations import Organisation

if TYPE_CHECKING:
    from prism_graph.context import Context

#: `AsyncSession.scalar` or `RequestReader.scalar`: one statement, its first value.
ReadScalar = Callable[[Any], Awaitable[Any]]


def now() -> datetime:
    """The current instant, UTC-aware."""
    return datetime.now(UTC)


def distributor_zone() -> Any:
    return (
        select(Organisation.time_zone)
        .where(Organisation.kind == OrganisationKind.DISTRIBUTOR)
        .order_by(Organisation.id)
        .limit(1)
        .scalar_subquery()
    )


def zone_statement(organisation_id: int | None) -> Select[Any]:
    """The zone set on the organisation, else the distributor's (None: the distributor's)."""
    if organisation_id is None:
        return select(distributor_zone())
    own = select(Organisation.time_zone).where(Organisation.id == organisation_id).scalar_subquery()
    return select(func.coalesce(own, distributor_zone()))


async def time_zone_of(read: ReadScalar, organisation_id: int | None) -> str:
    """The zone in force for the organisation (None: the distributor), in one statement."""
    return time_zone_in_force(await read(zone_statement(organisation_id)), None)


def today_in_zone(zone: str) -> date:
    return today_in(zone, now())


async def today_for(read: ReadScalar, organisation_id: int | None) -> date:
    """Today in the organisation's time zone (None: the distributor's)."""
    return today_in_zone(await time_zone_of(read, organisation_id))


async def callers_today(context: Context) -> date:
    """Today for whoever calls: in the zone of the partner they work for (distributor staff
    acting for one: that partner's), else the distributor's. Read through the request's
    loader, so a page of rows asking for it costs one statement."""
    scope, principal = context.scope, context.principal
    organisation = (scope.partner_id if scope else None) or (
        principal.organisation_id if principal else None
    )
    if organisation is None:
        return today_in_zone(await time_zone_of(context.reader.scalar, None))
    return today_in_zone(await context.loaders.time_zone_by_organisation.load(organisation))
