"""Organisations (SPEC T1): the distributor runs the platform; partners resell to customers.

Each organisation works in a time zone (an IANA name such as ``Australia/Sydney``). A partner
without one of its own follows the distributor's; a distributor without one works in UTC.
Business "today" (the earliest start date of an order, whether a month is over and can be
billed, whether a contract is in force) is the calendar date in that zone, never the UTC date.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import date, datetime
from enum import StrEnum

from prism_domain.errors import ErrorCode, FieldError


class OrganisationKind(StrEnum):
    DISTRIBUTOR = "DISTRIBUTOR"
    PARTNER = "PARTNER"


DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE_MAX_LENGTH = 64  # the longest IANA name is about 32 characters


# Files of a system zone database that zoneinfo lists but that name no place: the host's
# own setting and the placeholder zone.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def _known_zones() -> frozenset[str]:
    # The names zoneinfo can load from the system database or the tzdata package, checked
    # against this list rather than by loading the name, which would also open any other file
    # under the zone directory.
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def parse_time_zone(value: str, field: str = "timeZone") -> str | FieldError:
    """An IANA time zone name, as given (names are case-sensitive), or why it is refused."""
    name = value.strip()
    if not name:
        return FieldError(field, ErrorCode.REQUIRED, "Give a time zone, e.g. Europe/London.")
    if len(name) > TIME_ZONE_MAX_LENGTH or name not in _known_zones():
        return FieldError(
            field,
            ErrorCode.INVALID,
            f"{name!r} is not a known time zone: use an IANA name such as Europe/London, "
            "America/Los_Angeles or Australia/Sydney.",
        )
    return name


def time_zone_in_force(own: str | None, distributor: str | None) -> str:
    """An organisation's zone: its own, else the distributor's, else UTC."""
    return own or distributor or DEFAULT_TIME_ZONE


def today_in(zone: str, now: datetime) -> date:
    """The calendar date at the instant `now` (aware) in `zone`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zoneinfo.ZoneInfo(zone)).date()
