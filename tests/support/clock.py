"""Prism's business clock for tests: every "today" of the API reads
`prism_graph.organisations.zones.now`, so stopping it there moves them all."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from prism_graph.organisations import zones


def freeze(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """The API's clock stopped at `instant` (aware) for the rest of the test."""
    assert instant.tzinfo is not None, "give the instant a time zone"
    monkeypatch.setattr(zones, "now", lambda: instant)


def noon_utc(day: date) -> datetime:
    """Midday UTC of `day`: the same date in every zone from UTC-11 to UTC+11."""
    return datetime.combine(day, time(12), tzinfo=UTC)
