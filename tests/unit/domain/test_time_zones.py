"""Time zones of organisations and the date "today" in them (issue 12)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.organisations import parse_time_zone, time_zone_in_force, today_in

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["UTC", "Australia/Sydney", "America/Los_Angeles", "Etc/GMT+5"])
def test_iana_names_are_accepted_as_given(name: str) -> None:
    assert parse_time_zone(f"  {name} ") == name


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", ErrorCode.REQUIRED),
        ("Mars/Olympus_Mons", ErrorCode.INVALID),
        ("australia/sydney", ErrorCode.INVALID),  # names are case-sensitive
        ("localtime", ErrorCode.INVALID),
        ("../etc/passwd", ErrorCode.INVALID),
        ("A" * 65, ErrorCode.INVALID),
    ],
)
def test_anything_else_is_refused_on_the_field(value: str, code: ErrorCode) -> None:
    refused = parse_time_zone(value)
    assert isinstance(refused, FieldError)
    assert (refused.field, refused.code) == ("timeZone", code)


def test_a_partner_follows_the_distributor_and_the_distributor_defaults_to_utc() -> None:
    assert time_zone_in_force("Asia/Tokyo", "Australia/Sydney") == "Asia/Tokyo"
    assert time_zone_in_force(None, "Australia/Sydney") == "Australia/Sydney"
    assert time_zone_in_force(None, None) == "UTC"


def test_today_is_the_date_in_the_zone() -> None:
    instant = datetime(2026, 10, 31, 13, 30, tzinfo=UTC)
    assert today_in("Australia/Sydney", instant) == date(2026, 11, 1)
    assert today_in("UTC", instant) == date(2026, 10, 31)
    assert today_in("America/Los_Angeles", datetime(2026, 11, 11, 4, tzinfo=UTC)) == date(
        2026, 11, 10
    )
    with pytest.raises(ValueError):
        today_in("UTC", datetime(2026, 10, 31))
