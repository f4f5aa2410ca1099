"""How ConnectWise writes instants and days.

The API writes every date-time as UTC ISO 8601 with a ``Z`` (``2024-01-01T00:00:00Z``).
Fields that mean a calendar day (an agreement's start, an addition's effective and cancelled
dates) travel the same way at midnight UTC; which day ConnectWise takes a non-midnight
instant for is UNCONFIRMED, so the client always sends midnight (docs/connectwise.md §5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime is ambiguous; give it a timezone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_day(text: str) -> date:
    """The day a wire value names: its date part (the API sends days at midnight UTC)."""
    if "T" not in text:
        return date.fromisoformat(text)
    return parse_datetime(text).date()


def format_day(value: date) -> str:
    return f"{value.isoformat()}T00:00:00Z"
