"""Dates as the real API keeps them: UTC, written back without a zone designator.

Day fields (a contract's dates, an adjustment's effective date, a unit row's dates) hold a
calendar day, kept as ``YYYY-MM-DDT00:00:00``. A date-time sent for one is taken as the date
it falls on in the instance's zone (``SimConfig.instance_time_zone``; UNCONFIRMED for real
Autotask, see ``day_in``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def parse_any(value: str) -> datetime:
    """Accept ISO 8601 with Z, an offset, no zone (= UTC) or a bare date."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def wire(value: datetime) -> str:
    """``2024-01-31T15:04:05.307`` style: UTC, no zone designator (AUTOTASK.md §8)."""
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
    return utc.strftime("%Y-%m-%dT%H:%M:%S")


def wire_date(value: date) -> str:
    return f"{value.isoformat()}T00:00:00"


def day_of(value: str) -> date:
    return parse_any(value).date()


def day_in(value: str, zone: str) -> date:
    """The day a value sent for a day field names in an instance working in `zone`: a bare
    date is that date; a date-time (UTC when it has no designator) is the date it falls on
    there, so ``2026-11-01T00:00:00Z`` is 31 October in America/Los_Angeles."""
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return parse_any(text).astimezone(ZoneInfo(zone)).date()


def add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year = start.year + month // 12
    month = month % 12 + 1
    # Clamp to the month's length (Jan 31 + 1 month = Feb 28/29).
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise ValueError("unreachable")


ONE_DAY = timedelta(days=1)
