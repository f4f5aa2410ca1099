"""Autotask's date-times and days: returned in UTC without a zone designator, sent unambiguously.

The REST API stores and returns entity times in UTC, as ``2018-11-13T17:32:34`` or
``2016-03-30T13:10:35.563`` (AUTOTASK.md §8). Parsing them as local time shifts them by
the host's offset, so a naive value is read as UTC. What we send always carries ``Z``.

Some fields hold a calendar day, not an instant: a contract's ``startDate``/``endDate``, an
adjustment's ``effectiveDate``, a unit row's ``startDate``/``endDate``. They are typed
date-time on the wire and come back as midnight (``2026-11-01T00:00:00``). Whether
Autotask reads an incoming value for them as its UTC date or as the date in the instance's
own zone is UNCONFIRMED (ECIT issue #94: adjustments sent from UTC+1 landed a day early), so:

- a day D is *sent* as D at 12:00:00Z (``format_day``). Midday UTC is day D in UTC and in
  every zone from UTC-11 to UTC+11, where midnight UTC is already the day before in every
  zone west of UTC. (Zones of UTC+12 and beyond, e.g. New Zealand in summer, would read the
  day after; no single instant is day D everywhere.)
- a day field is *read* as the date it names (``parse_day``): ``2026-11-01T00:00:00`` is
  1 November, with or without ``Z``, whatever the host's zone.

Filters compare a day field with instants, so ``query`` sends a calendar date in a filter as
a comparison with a midday too (see ``query._day_condition``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

#: The time of day a calendar day is sent at (see the module's docstring).
MIDDAY_UTC = time(12, 0, tzinfo=UTC)


def parse_datetime(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(value: date | datetime) -> str:
    """ISO 8601 in UTC with ``Z``. A plain date is that day's midnight UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    elif value.tzinfo is None:
        raise ValueError("naive datetime is ambiguous; give it a timezone")
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_day(value: str) -> date:
    """The calendar date a day field names: ``2026-11-01``, ``2026-11-01T00:00:00`` and
    ``2026-11-01T00:00:00Z`` are all 1 November (the date as written, never shifted)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)


def format_day(value: date) -> str:
    """A calendar day as Autotask is sent it: ``2026-11-01T12:00:00Z`` (midday UTC)."""
    if isinstance(value, datetime):
        raise TypeError("a day field takes a date, not a datetime")
    return format_datetime(datetime.combine(value, MIDDAY_UTC))
