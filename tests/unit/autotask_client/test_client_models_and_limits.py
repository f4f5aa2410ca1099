from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from autotask_client import (
    BudgetExhaustedError,
    ContractServiceAdjustment,
    LocalLimiter,
    Service,
)
from autotask_client.models import EntityFields, FieldInfo, PicklistValue

pytestmark = pytest.mark.unit


def test_wire_names_keep_autotask_id_casing_and_unknown_fields() -> None:
    raw = {
        "id": 5,
        "billingCodeID": 29682801,
        "vendorCompanyID": 0,
        "unitPrice": 3.5,
        "brandNewField": "x",
    }
    s = Service.model_validate(raw)
    assert s.billing_code_id == 29682801
    assert s.to_wire()["billingCodeID"] == 29682801
    assert s.to_wire()["brandNewField"] == "x"


def test_sent_dates_are_unambiguous() -> None:
    adj = ContractServiceAdjustment(
        contract_id=1,
        service_id=2,
        unit_change=-1,
        effective_date=date(2024, 3, 15),
        adjusted_unit_price=Decimal("10.10"),
    )
    assert adj.to_wire() == {
        "contractID": 1,
        "serviceID": 2,
        "unitChange": -1,
        "effectiveDate": "2024-03-15T12:00:00Z",  # a day: midday UTC (tests: test_client_day_fields)
        "adjustedUnitPrice": 10.1,
    }
    service = Service(create_date=datetime(2024, 3, 15, 9, 30, tzinfo=UTC))
    assert service.to_wire() == {"createDate": "2024-03-15T09:30:00Z"}  # an instant, as is


def test_picklist_labels_match_case_insensitively() -> None:
    fields = EntityFields(
        "BillingCodes",
        [
            FieldInfo(
                name="UseType",
                data_type="integer",
                is_pick_list=True,
                picklist_values=[
                    PicklistValue(value="1", label="General Allocation Code"),
                    PicklistValue(value="5", label="Recurring Contract Service Code"),
                ],
            )
        ],
    )
    assert "usetype" in fields
    assert fields.value_for("useType", "recurring contract SERVICE code") == 5
    assert fields.label_for("USETYPE", 1) == "General Allocation Code"
    with pytest.raises(KeyError):
        fields.value_for("useType", "nope")


def test_local_limiter_holds_the_rolling_budget() -> None:
    now = [0.0]
    limiter = LocalLimiter(budget=2, window_seconds=100, clock=lambda: now[0])
    for _ in range(2):
        with limiter.acquire("Services"):
            pass
    with pytest.raises(BudgetExhaustedError) as caught, limiter.acquire("Services"):
        pass
    assert caught.value.retry_after == 100
    now[0] = 100.5
    with limiter.acquire("Services"):
        pass
    assert limiter.used() == 1


def test_local_limiter_bounds_concurrency_per_endpoint() -> None:
    limiter = LocalLimiter(concurrency=1, acquire_timeout=0)
    with limiter.acquire("Services"):
        with limiter.acquire("Contracts"):
            pass  # another endpoint has its own slots
        with pytest.raises(Exception, match="no free request slot"), limiter.acquire("services"):
            pass


def test_the_client_asks_the_limiter_per_endpoint(make_client) -> None:
    asked: list[str] = []

    class Recording:
        def acquire(self, endpoint: str):
            asked.append(endpoint)
            return threading.Lock()

    client, _ = make_client(
        lambda r: httpx.Response(200, json={"itemId": 1, "items": [], "pageDetails": {"count": 0}}),
        limiter=Recording(),
    )
    client.services.update(1, {"unitPrice": 1})
    list(client.contract_services.for_contract(3))
    client.contract_service_adjustments.create(
        ContractServiceAdjustment(contract_id=3, service_id=1, unit_change=1)
    )
    list(client.contract_service_units.for_contract(3))
    assert asked == [
        "Services",
        "ContractServices",
        "ContractServiceAdjustments",
        "ContractServiceUnits",
    ]


def test_a_spent_local_budget_raises_before_sending(make_client) -> None:
    client, rec = make_client(
        lambda r: httpx.Response(200, json={"item": None}), limiter=LocalLimiter(budget=1)
    )
    client.services.get(1)
    with pytest.raises(BudgetExhaustedError):
        client.services.get(1)
    assert len(rec.api_requests()) == 1


def test_fit_cuts_text_to_the_field_length() -> None:
    fields = EntityFields(
        "Services", [FieldInfo(name="description", data_type="string", length=400)]
    )
    assert fields.fit("Description", "x" * 401) == "x" * 400
    assert fields.fit("description", None) is None


def test_credentials_never_reach_the_logs(make_client, creds, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    answers = iter([httpx.Response(503), httpx.Response(200, json={"item": None})])
    client, _ = make_client(lambda r: next(answers))
    client.services.get(1)
    text = caplog.text
    assert "Services" in text
    for secret in (creds.secret, creds.integration_code, creds.username):
        assert secret not in text
