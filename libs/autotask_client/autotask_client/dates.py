"""Autotask's date-times: returned in UTC without a zone designator, sent unambiguously.

The REST API stores and returns entity times in UTC, as ``2018-11-13T17:32:34`` or
``2016-03-30T13:10:35.563`` (AUTOTASK.md §8). Parsing them as local time shifts them by
the host's offset, so a naive value is read as UTC. What we send always carries ``Z``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time


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
