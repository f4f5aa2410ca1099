"""An adjustment lands on its day whatever zone the Autotask instance works in.

The simulator takes a date-time sent for a day field as the date it falls on in its
instance zone (`SimConfig.instance_time_zone`; how real Autotask reads it is UNCONFIRMED,
ECIT #94). The client sends a day at midday UTC, which is that day from UTC-11 to UTC+11;
the old form, midnight UTC, is the day before in every zone west of UTC.
"""

from __future__ import annotations

from datetime import date

import pytest

from autotask_client import ContractServiceAdjustment, Service
from autotask_client import query as q
from autotask_sim import SimConfig
from autotask_sim.metadata import ADJUSTMENTS
from autotask_sim.seed import RECURRING_CODE_ID, RECURRING_CONTRACT_ID

pytestmark = pytest.mark.integration

ZONES = ["America/Los_Angeles", "Australia/Sydney", "UTC"]
DAY = date(2026, 11, 15)


@pytest.fixture(params=ZONES)
def zone(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim_config(delays, zone: str) -> SimConfig:
    return SimConfig(threshold_latency=False, sleep=delays, instance_time_zone=zone)


def new_service(client) -> int:
    return client.services.create(
        Service(
            name="PC_tz_2468",
            billing_code_id=RECURRING_CODE_ID,
            period_type=1,
            unit_price=10,
            unit_cost=6,
        )
    )


def unit_rows(client, service_id: int) -> list[tuple[str, str, int]]:
    rows = client.contract_service_units.query(
        q.eq("serviceID", service_id),
        q.gte("startDate", date(2026, 11, 1)),
        q.lte("startDate", date(2026, 11, 30)),
    )
    return sorted((u.start_date.isoformat(), u.end_date.isoformat(), u.units) for u in rows)


def test_an_adjustment_lands_on_its_date_in_every_instance_zone(client, sim, zone) -> None:
    sid = new_service(client)
    # When the client sends 15 November as a day (midday UTC)
    client.contract_service_adjustments.create(
        ContractServiceAdjustment(
            contract_id=RECURRING_CONTRACT_ID, service_id=sid, unit_change=3, effective_date=DAY
        )
    )
    # Then Autotask keeps the 15th, and the unit rows split there, in every zone
    (adjustment,) = [a for a in sim.records(ADJUSTMENTS) if a["serviceID"] == sid]
    assert adjustment["effectiveDate"] == "2026-11-15T00:00:00"
    assert unit_rows(client, sid) == [
        ("2026-11-01", "2026-11-14", 0),
        ("2026-11-15", "2026-11-30", 3),
    ]
    # And the day's filters find the row in force on the 15th (gte/lte on day fields)
    (cs,) = client.contract_services.query(q.eq("serviceID", sid))
    in_force = client.contract_service_units.in_force(int(cs.id or 0), DAY)
    assert in_force is not None and in_force.start_date == DAY and in_force.units == 3


def test_the_old_midnight_utc_form_lands_a_day_early_west_of_utc(api, sim, client, zone) -> None:
    sid = new_service(client)
    sent = api(
        "POST",
        "ContractServiceAdjustments",
        json={
            "contractID": RECURRING_CONTRACT_ID,
            "serviceID": sid,
            "unitChange": 3,
            "effectiveDate": "2026-11-15T00:00:00Z",
        },
    )
    assert sent.status_code == 200
    (adjustment,) = [a for a in sim.records(ADJUSTMENTS) if a["serviceID"] == sid]
    landed = "2026-11-14" if zone == "America/Los_Angeles" else "2026-11-15"
    assert adjustment["effectiveDate"] == f"{landed}T00:00:00"


def test_a_day_filter_sent_as_midnight_utc_would_reach_the_day_before_west_of_utc(
    api, client, zone
) -> None:
    """`endDate >= 15 November` sent the old way also finds rows that end on the 14th in
    Los Angeles; the client's form (`endDate > midday of the 14th`) finds the same rows in
    every zone."""
    sid = new_service(client)
    client.contract_service_adjustments.create(
        ContractServiceAdjustment(
            contract_id=RECURRING_CONTRACT_ID, service_id=sid, unit_change=3, effective_date=DAY
        )
    )

    def starts(condition: dict[str, object]) -> list[str]:
        body = {"filter": [{"op": "eq", "field": "serviceID", "value": sid}, condition]}
        found = api("POST", "ContractServiceUnits/query", json=body).json()["items"]
        return sorted(u["startDate"][:10] for u in found if u["startDate"] < "2026-12")

    old = starts({"op": "gte", "field": "endDate", "value": "2026-11-15T00:00:00Z"})
    (new,) = q.query(q.gte("endDate", DAY)).to_body()["Filter"]
    assert starts(new) == ["2026-11-15"]
    assert old == (
        ["2026-11-01", "2026-11-15"] if zone == "America/Los_Angeles" else ["2026-11-15"]
    )


def test_the_instance_zone_comes_from_the_environment() -> None:
    assert SimConfig.from_env({}).instance_time_zone == "UTC"
    chosen = SimConfig.from_env({"AUTOTASK_SIM_TIME_ZONE": "America/Los_Angeles"})
    assert chosen.instance_time_zone == "America/Los_Angeles"
