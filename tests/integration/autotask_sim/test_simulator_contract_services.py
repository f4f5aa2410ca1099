"""The simulator's contract services: how they are written, adjustments, unit rows, and
what a user changes in the UI."""

from __future__ import annotations

from datetime import date

import pytest

from autotask_client import (
    ContractRuleError,
    ContractService,
    ContractServiceAdjustment,
    ValidationError,
)
from autotask_client import query as q
from autotask_sim.seed import (
    EXISTING_SERVICE_ID,
    EXPIRED_CONTRACT_ID,
    INACTIVE_CONTRACT_ID,
    RECURRING_CONTRACT_ID,
    TM_CONTRACT_ID,
)
from tests.integration.autotask_sim.support import new_service

pytestmark = pytest.mark.integration

SEED_DUPLICATE = (
    "Violation of UNIQUE KEY constraint 'IX_service'. Cannot insert duplicate key in object "
    "'dbo.Service'. The duplicate key value is ({name}). Error updating database for {which} "
    "entity records."
)
SEED_OUTSIDE = (
    "ContractServiceAdjustment effectiveDate must be between the start date and end date of "
    "the Contract referenced by contractID."
)


# -- contract services ------------------------------------------------------------------------


def test_contract_services_are_written_through_the_contract(client) -> None:
    sid = new_service(client)
    cs_id = client.contract_services.create(RECURRING_CONTRACT_ID, ContractService(service_id=sid))
    cs = client.contract_services.get(cs_id)
    assert (
        cs is not None
        and cs.contract_id == RECURRING_CONTRACT_ID
        and float(cs.unit_price or 0) == 10
    )
    found = list(client.contract_services.query(q.eq("contractID", RECURRING_CONTRACT_ID)))
    assert [c.id for c in found] == [cs_id]


def test_only_recurring_service_contracts_take_services(client) -> None:
    sid = new_service(client)
    with pytest.raises(ContractRuleError):
        client.contract_services.create(TM_CONTRACT_ID, ContractService(service_id=sid))


def test_a_service_is_on_a_contract_once(client) -> None:
    sid = new_service(client)
    client.contract_services.create(RECURRING_CONTRACT_ID, ContractService(service_id=sid))
    with pytest.raises(ValidationError):
        client.contract_services.create(RECURRING_CONTRACT_ID, ContractService(service_id=sid))


def test_contract_service_updates_touch_only_adjusted_price_and_invoice_description(client) -> None:
    sid = new_service(client)
    cs_id = client.contract_services.create(RECURRING_CONTRACT_ID, ContractService(service_id=sid))
    client.contract_services.update(
        RECURRING_CONTRACT_ID,
        cs_id,
        {"unitPrice": 99, "adjustedPrice": 9, "invoiceDescription": "inv"},
    )
    cs = client.contract_services.get(cs_id)
    assert cs is not None
    assert float(cs.unit_price or 0) == 10 and float(cs.adjusted_price or 0) == 9
    assert cs.invoice_description == "inv"


# -- adjustments and units ----------------------------------------------------------------------


def adjust(client, contract_id: int, service_id: int, units: int, day: date, **extra) -> int | None:
    return client.contract_service_adjustments.create(
        ContractServiceAdjustment(
            contract_id=contract_id,
            service_id=service_id,
            unit_change=units,
            effective_date=day,
            **extra,
        )
    )


def test_an_adjustment_outside_the_contract_dates_gets_the_seed_error(client) -> None:
    sid = new_service(client)
    for day in (date(2023, 12, 31), date(2031, 1, 1)):
        with pytest.raises(ContractRuleError) as caught:
            adjust(client, RECURRING_CONTRACT_ID, sid, 1, day)
        assert caught.value.status == 500 and caught.value.errors == [SEED_OUTSIDE]
    with pytest.raises(ContractRuleError):
        adjust(client, EXPIRED_CONTRACT_ID, sid, 1, date(2024, 5, 1))
    adjust(client, RECURRING_CONTRACT_ID, sid, 1, date(2030, 12, 31))


@pytest.mark.parametrize("contract", [INACTIVE_CONTRACT_ID, TM_CONTRACT_ID])
def test_adjustments_need_an_active_recurring_service_contract(client, contract) -> None:
    sid = new_service(client)
    with pytest.raises(ContractRuleError):
        adjust(client, contract, sid, 1, date(2024, 5, 1))


def test_an_adjustment_adds_the_contract_service_when_missing(client) -> None:
    sid = new_service(client)
    assert adjust(client, RECURRING_CONTRACT_ID, sid, 4, date(2024, 3, 1))
    (cs,) = client.contract_services.query(q.eq("serviceID", sid))
    assert cs.contract_id == RECURRING_CONTRACT_ID


def test_units_cannot_go_below_zero(client) -> None:
    sid = new_service(client)
    adjust(client, RECURRING_CONTRACT_ID, sid, 2, date(2024, 3, 1))
    with pytest.raises(ValidationError):
        adjust(client, RECURRING_CONTRACT_ID, sid, -3, date(2024, 4, 1))
    units = list(
        client.contract_service_units.query(
            q.eq("serviceID", sid), q.lt("startDate", date(2024, 6, 1))
        )
    )
    assert [u.units for u in units] == [2, 2, 2]


def rows(client, sid: int, before: date) -> list[tuple[str, str, int, float, float]]:
    units = client.contract_service_units.query(q.eq("serviceID", sid), q.lt("startDate", before))
    return sorted(
        (
            u.start_date.isoformat(),
            u.end_date.isoformat(),
            u.units,
            float(u.price),
            float(u.cost),
        )
        for u in units
    )


def test_units_are_split_at_adjustment_dates_with_price_and_cost_per_period(client) -> None:
    sid = new_service(client)
    adjust(client, RECURRING_CONTRACT_ID, sid, 5, date(2024, 1, 1))
    adjust(
        client,
        RECURRING_CONTRACT_ID,
        sid,
        2,
        date(2024, 1, 15),
        adjusted_unit_price=12,
        adjusted_unit_cost=7,
    )
    adjust(client, RECURRING_CONTRACT_ID, sid, -7, date(2024, 3, 1))
    assert rows(client, sid, date(2024, 4, 1)) == [
        ("2024-01-01", "2024-01-14", 5, 10.0, 6.0),
        ("2024-01-15", "2024-01-31", 7, 12.0, 7.0),
        ("2024-02-01", "2024-02-29", 7, 12.0, 7.0),
        ("2024-03-01", "2024-03-31", 0, 12.0, 7.0),
    ]


def test_a_row_per_period_until_the_contract_ends(client) -> None:
    sid = new_service(client, period_type=2)  # quarterly
    adjust(client, RECURRING_CONTRACT_ID, sid, 1, date(2030, 5, 10))
    assert rows(client, sid, date(2031, 1, 1)) == [
        ("2030-04-01", "2030-05-09", 0, 10.0, 6.0),
        ("2030-05-10", "2030-06-30", 1, 10.0, 6.0),
        ("2030-07-01", "2030-09-30", 1, 10.0, 6.0),
        ("2030-10-01", "2030-12-31", 1, 10.0, 6.0),
    ]


def test_unit_row_ids_survive_later_adjustments(client) -> None:
    sid = new_service(client)
    adjust(client, RECURRING_CONTRACT_ID, sid, 5, date(2024, 1, 1))
    before = {
        u.start_date: u.id for u in client.contract_service_units.query(q.eq("serviceID", sid))
    }
    adjust(client, RECURRING_CONTRACT_ID, sid, 1, date(2024, 1, 20))
    after = {
        u.start_date: u.id for u in client.contract_service_units.query(q.eq("serviceID", sid))
    }
    assert all(after[start] == id for start, id in before.items())
    assert len(after) == len(before) + 1


def test_a_ui_user_can_change_units_and_the_api_sees_it(client, sim) -> None:
    sid = new_service(client)
    adjust(client, RECURRING_CONTRACT_ID, sid, 5, date(2024, 1, 1))
    sim.adjust_units(RECURRING_CONTRACT_ID, sid, 3, "2024-02-10")
    units = rows(client, sid, date(2024, 3, 1))
    assert ("2024-02-10", "2024-02-29", 8, 10.0, 6.0) in units


def test_a_contract_service_removed_in_the_ui_takes_its_units(client, sim) -> None:
    sid = new_service(client)
    adjust(client, RECURRING_CONTRACT_ID, sid, 5, date(2024, 1, 1))
    (cs,) = client.contract_services.query(q.eq("serviceID", sid))
    sim.delete("ContractServices", cs.id)
    assert client.contract_service_units.count(q.eq("serviceID", sid)) == 0


def test_edits_in_the_ui_to_contract_dates_apply_to_later_adjustments(client, sim) -> None:
    sid = new_service(client)
    sim.edit("Contracts", RECURRING_CONTRACT_ID, endDate="2024-06-30T00:00:00")
    with pytest.raises(ContractRuleError):
        adjust(client, RECURRING_CONTRACT_ID, sid, 1, date(2024, 7, 1))
    sim.edit("Contracts", RECURRING_CONTRACT_ID, status=0)
    with pytest.raises(ContractRuleError):
        adjust(client, RECURRING_CONTRACT_ID, sid, 1, date(2024, 5, 1))


def test_existing_seeded_service_is_there(client) -> None:
    service = client.services.get(EXISTING_SERVICE_ID)
    assert service is not None and service.name == "Desktop Maintenance"


def test_put_on_a_contract_service_keeps_what_cannot_change(api, client) -> None:
    sid = new_service(client)
    cs_id = client.contract_services.create(RECURRING_CONTRACT_ID, ContractService(service_id=sid))
    r = api(
        "PUT",
        f"Contracts/{RECURRING_CONTRACT_ID}/Services",
        json={"id": cs_id, "invoiceDescription": "x"},
    )
    assert r.status_code == 200
    cs = client.contract_services.get(cs_id)
    assert cs is not None and cs.service_id == sid and cs.invoice_description == "x"


def test_adjustments_can_also_be_posted_at_the_top_level(api, client) -> None:
    sid = new_service(client)
    body = {
        "contractID": RECURRING_CONTRACT_ID,
        "serviceID": sid,
        "unitChange": 3,
        "effectiveDate": "2024-05-01",
    }
    r = api("POST", "ContractServiceAdjustments", json=body)
    assert r.status_code == 200 and r.json()["itemId"]
    units = rows(client, sid, date(2024, 6, 1))
    assert units == [("2024-05-01", "2024-05-31", 3, 10.0, 6.0)]


def test_the_row_in_force_on_a_day(client) -> None:
    sid = new_service(client)
    adjust(client, RECURRING_CONTRACT_ID, sid, 5, date(2024, 1, 1))
    adjust(client, RECURRING_CONTRACT_ID, sid, 2, date(2024, 1, 15))
    (cs,) = client.contract_services.query(q.eq("serviceID", sid))
    units = client.contract_service_units
    assert units.in_force(cs.id, date(2024, 1, 14)).units == 5
    assert units.in_force(cs.id, date(2024, 1, 15)).units == 7
    assert units.in_force(cs.id, date(2023, 12, 31)) is None


@pytest.mark.parametrize(
    ("variant", "expected"), [("id", int), ("null", type(None)), ("zero", int)]
)
def test_adjustment_item_id_variants_are_accepted_by_the_client(
    tmp_path, creds, variant, expected
) -> None:
    from autotask_client import AutotaskClient
    from autotask_sim import SimConfig, create_app
    from prism_http.testing import sim_http_client

    app = create_app(
        SimConfig(adjustment_item_id=variant, threshold_latency=False), tmp_path / "v.sqlite3"
    )
    with sim_http_client(app) as http:
        client = AutotaskClient(creds, http=http)
        result = adjust(client, RECURRING_CONTRACT_ID, EXISTING_SERVICE_ID, 1, date(2024, 2, 1))
        assert isinstance(result, expected)
        assert client.contract_service_units.count(q.eq("serviceID", EXISTING_SERVICE_ID)) > 0
    app.state.sim.close()


def test_a_missing_item_may_be_a_null_item(tmp_path, creds) -> None:
    from autotask_client import AutotaskClient
    from autotask_sim import SimConfig, create_app
    from prism_http.testing import sim_http_client

    app = create_app(SimConfig(missing_item="null"), tmp_path / "n.sqlite3")
    with sim_http_client(app) as http:
        raw = http.get(
            "https://webservices2.autotask.net/ATServicesRest/V1.0/Services/1",
            headers={
                "UserName": creds.username,
                "Secret": creds.secret,
                "ApiIntegrationCode": creds.integration_code,
            },
        )
        assert (raw.status_code, raw.json()) == (200, {"item": None})
        assert AutotaskClient(creds, http=http).services.get(1) is None
    app.state.sim.close()
