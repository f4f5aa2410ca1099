"""Calendar days on the wire: sent at midday UTC, read as the date they name, compared
through middays in filters, so that no instance zone from UTC-11 to UTC+11 shifts them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from autotask_client import Contract, ContractServiceAdjustment, ContractServiceUnit
from autotask_client import query as q
from autotask_client.dates import format_day, parse_datetime, parse_day

pytestmark = pytest.mark.unit

DAY = date(2026, 11, 1)
ZONES = ("America/Los_Angeles", "Australia/Sydney", "UTC", "Pacific/Pago_Pago", "Asia/Magadan")


@pytest.mark.parametrize("zone", ZONES)
def test_a_day_is_sent_at_midday_utc_which_is_that_day_in_every_zone_within_11_hours(
    zone: str,
) -> None:
    sent = ContractServiceAdjustment(effective_date=DAY).to_wire()["effectiveDate"]
    assert sent == "2026-11-01T12:00:00Z"
    assert parse_datetime(sent).astimezone(ZoneInfo(zone)).date() == DAY


def test_midnight_utc_the_old_form_is_the_day_before_west_of_utc() -> None:
    midnight = datetime(2026, 11, 1, tzinfo=UTC)
    assert midnight.astimezone(ZoneInfo("America/Los_Angeles")).date() == date(2026, 10, 31)


@pytest.mark.parametrize(
    "text", ["2026-11-01T00:00:00", "2026-11-01T00:00:00Z", "2026-11-01T00:00:00.000", "2026-11-01"]
)
def test_day_fields_are_read_as_the_date_they_name(text: str) -> None:
    unit = ContractServiceUnit.model_validate({"startDate": text, "endDate": text})
    contract = Contract.model_validate({"startDate": text, "endDate": text})
    assert unit.start_date == unit.end_date == DAY
    assert contract.start_date == contract.end_date == DAY
    assert parse_day(text) == DAY


def test_a_day_field_refuses_a_naive_datetime_and_takes_an_aware_one_as_its_date() -> None:
    with pytest.raises(ValueError):
        ContractServiceAdjustment(effective_date=datetime(2026, 11, 1))  # type: ignore[arg-type]
    sydney = datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo("Australia/Sydney"))
    assert ContractServiceAdjustment(effective_date=sydney).effective_date == DAY  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_day(datetime(2026, 11, 1, tzinfo=UTC))


def filter_of(condition: q.Filter) -> dict[str, object]:
    (wire,) = q.query(condition).to_body()["Filter"]
    return wire


def test_date_comparisons_are_sent_as_comparisons_with_middays() -> None:
    eve, noon = "2026-10-31T12:00:00Z", "2026-11-01T12:00:00Z"
    assert filter_of(q.lte("startDate", DAY)) == {"op": "lte", "field": "startDate", "value": noon}
    assert filter_of(q.gt("startDate", DAY)) == {"op": "gt", "field": "startDate", "value": noon}
    assert filter_of(q.gte("endDate", DAY)) == {"op": "gt", "field": "endDate", "value": eve}
    assert filter_of(q.lt("endDate", DAY)) == {"op": "lte", "field": "endDate", "value": eve}
    assert filter_of(q.eq("endDate", DAY)) == {
        "op": "and",
        "items": [
            {"op": "gt", "field": "endDate", "value": eve},
            {"op": "lte", "field": "endDate", "value": noon},
        ],
    }
    # An instant is compared as given.
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert filter_of(q.gte("createDate", at))["value"] == "2026-11-01T09:00:00Z"


STORED = {
    "midnight, as Autotask returns days": timedelta(0),
    "midday, as Prism writes them": timedelta(hours=12),
}


@pytest.mark.parametrize("offset", STORED.values(), ids=STORED.keys())
@pytest.mark.parametrize("zone", [None, *ZONES])
def test_filters_keep_exactly_the_days_asked_for_however_the_server_compares(
    offset: timedelta, zone: str | None
) -> None:
    """Whether the server compares UTC instants (zone None) or the dates a value falls on in
    its zone, `gte`/`lte`/`lt`/`gt`/`eq` D select the days they name."""

    def server_says(op: str, stored: date, value: str) -> bool:
        left = datetime.combine(stored, datetime.min.time(), tzinfo=UTC) + offset
        right = parse_datetime(value)
        if zone is not None:
            left_v: object = stored
            right_v: object = right.astimezone(ZoneInfo(zone)).date()
        else:
            left_v, right_v = left, right
        return {
            "gt": left_v > right_v,  # type: ignore[operator]
            "lte": left_v <= right_v,  # type: ignore[operator]
        }[op]

    def matches(wire: dict[str, object], stored: date) -> bool:
        if wire["op"] == "and":
            return all(matches(i, stored) for i in wire["items"])  # type: ignore[attr-defined]
        if wire["op"] == "or":
            return any(matches(i, stored) for i in wire["items"])  # type: ignore[attr-defined]
        return server_says(str(wire["op"]), stored, str(wire["value"]))

    days = [DAY + timedelta(days=n) for n in (-2, -1, 0, 1, 2)]
    expected = {
        q.gte: lambda d: d >= DAY,
        q.lte: lambda d: d <= DAY,
        q.gt: lambda d: d > DAY,
        q.lt: lambda d: d < DAY,
        q.eq: lambda d: d == DAY,
        q.noteq: lambda d: d != DAY,
    }
    for build, rule in expected.items():
        wire = filter_of(build("startDate", DAY))
        assert [d for d in days if matches(wire, d)] == [d for d in days if rule(d)], build
