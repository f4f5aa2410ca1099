"""The simulator's writes: create and update shapes, field metadata, services."""

from __future__ import annotations

import pytest

from autotask_client import (
    DuplicateKeyError,
    NotFoundError,
    Service,
    ValidationError,
)
from autotask_sim.seed import (
    GENERAL_CODE_ID,
    INACTIVE_RECURRING_CODE_ID,
    RECURRING_CODE_ID,
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


# -- create / update shapes -------------------------------------------------------------------


def test_create_answers_200_with_the_item_id(api) -> None:
    r = api(
        "POST",
        "Services",
        json={"name": "PC_a", "billingCodeID": RECURRING_CODE_ID, "periodType": 1, "unitPrice": 5},
    )
    assert r.status_code == 200
    assert set(r.json()) == {"itemId"} and isinstance(r.json()["itemId"], int)


def test_new_services_are_active_and_stamped(client) -> None:
    service = client.services.get(new_service(client))
    assert service is not None and service.is_active is True
    assert service.create_date is not None and service.markup_rate is not None


def test_patch_changes_only_the_fields_sent(client) -> None:
    sid = new_service(client, description="keep me")
    assert client.services.update(sid, {"unitPrice": 12.5}) == sid
    service = client.services.get(sid)
    assert service is not None
    assert float(service.unit_price or 0) == 12.5 and service.description == "keep me"


def test_put_resets_fields_left_out(client) -> None:
    sid = new_service(client, description="gone after put")
    client.services.replace(
        Service(
            id=sid,
            name="PC_sku_1357",
            billing_code_id=RECURRING_CODE_ID,
            period_type=1,
            unit_price=3,
        )
    )
    service = client.services.get(sid)
    assert (
        service is not None and service.description is None and float(service.unit_price or 0) == 3
    )


def test_patch_needs_an_existing_id(api, client) -> None:
    assert api("PATCH", "Services", json={"unitPrice": 1}).json() == {
        "errors": ["The id of the entity to update is required."]
    }
    with pytest.raises(NotFoundError):
        client.services.update(1, {"unitPrice": 1})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "Services/29683401"),
        ("DELETE", "Contracts/29683001"),
        ("POST", "ContractServices"),
        ("PATCH", "ContractServices"),
        ("POST", "ContractServiceUnits"),
        ("POST", "BillingCodes"),
        ("GET", "ContractServiceAdjustments/1"),
    ],
)
def test_verbs_the_api_does_not_have_are_refused(api, method, path) -> None:
    r = api(method, path, json={})
    assert r.status_code in (404, 405)


# -- field metadata rules ---------------------------------------------------------------------


def test_required_fields_come_from_field_metadata(api) -> None:
    r = api("POST", "Services", json={"description": "no name"})
    assert r.status_code == 500
    assert set(r.json()["errors"]) == {
        f"Value does not exist for the required field {f}. "
        for f in ("name", "billingCodeID", "periodType", "unitPrice")
    }


def test_field_lengths_come_from_field_metadata(client) -> None:
    with pytest.raises(ValidationError) as caught:
        new_service(client, description="x" * 401)
    assert caught.value.errors == [
        "Value for field description exceeds the maximum length of 400 characters."
    ]
    new_service(client, description="x" * 400, invoice_description="y" * 1000)


def test_picklist_values_are_checked(client) -> None:
    with pytest.raises(ValidationError) as caught:
        new_service(client, period_type=99)
    assert caught.value.errors == ["Value does not reference an existing entity for periodType . "]


# -- services ---------------------------------------------------------------------------------


def test_service_names_are_unique_with_the_seed_error_text(client) -> None:
    new_service(client, "PC_sku_1357")
    with pytest.raises(DuplicateKeyError) as caught:
        new_service(client, "pc_SKU_1357")
    assert caught.value.status == 500
    assert caught.value.errors == [SEED_DUPLICATE.format(name="pc_SKU_1357", which="new")]


def test_renaming_onto_a_taken_name_is_refused(client) -> None:
    sid = new_service(client, "PC_a")
    with pytest.raises(DuplicateKeyError):
        client.services.update(sid, {"name": "Desktop Maintenance"})


def test_a_service_deleted_in_the_ui_frees_its_name(client, sim) -> None:
    sid = new_service(client)
    sim.delete("Services", sid)
    assert client.services.get(sid) is None
    with pytest.raises(NotFoundError):
        client.services.update(sid, {"unitPrice": 1})
    assert new_service(client) != sid


def test_a_deactivated_service_stays_inactive_through_price_updates(client, sim) -> None:
    sid = new_service(client)
    sim.deactivate_service(sid)
    client.services.update(sid, {"unitPrice": 11, "unitCost": 7})
    service = client.services.get(sid)
    assert (
        service is not None and service.is_active is False and float(service.unit_price or 0) == 11
    )


@pytest.mark.parametrize("code", [INACTIVE_RECURRING_CODE_ID, GENERAL_CODE_ID, 1])
def test_services_need_an_active_recurring_billing_code(client, code) -> None:
    with pytest.raises(ValidationError):
        new_service(client, billing_code_id=code)


def test_a_service_may_keep_a_billing_code_that_became_inactive(client, sim) -> None:
    sid = new_service(client)
    sim.edit("BillingCodes", RECURRING_CODE_ID, isActive=False)
    client.services.update(sid, {"unitPrice": 2})
    with pytest.raises(ValidationError):
        new_service(client, "PC_other")
