"""Catalog items and agreement additions: the rules a write must pass, JSON-patch, and the
billed history an invoice run locks (a change is then made by cancelling and adding)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectwise_client import (
    Addition,
    CatalogItem,
    ConnectWiseClient,
    Credentials,
    DuplicateError,
    NotFoundError,
    Reference,
    RetryPolicy,
    ServerError,
    ValidationError,
    patch,
)
from connectwise_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    Fault,
    SimConfig,
    Simulator,
    create_app,
)
from connectwise_sim.seed import (
    AGREEMENT_ID,
    EXISTING_ADDITION_ID,
    EXISTING_ITEM_ID,
    PRODUCT_TYPE_ID,
    SUBCATEGORY_ID,
)
from prism_http.testing import sim_http_client

pytestmark = pytest.mark.integration


def item(**changes) -> CatalogItem:
    fields = {
        "identifier": "PC_sku_1",
        "description": "Widget seat",
        "type": Reference.to(PRODUCT_TYPE_ID),
        "subcategory": Reference.to(SUBCATEGORY_ID),
        "price": Decimal("10.50"),
        "cost": Decimal("7.25"),
    }
    return CatalogItem(**(fields | changes))


def add(client, **changes) -> Addition:
    fields = {
        "product": Reference.to(EXISTING_ITEM_ID),
        "quantity": Decimal(5),
        "bill_customer": "Billable",
        "effective_date": date(2026, 2, 10),
    }
    return client.agreements.additions(AGREEMENT_ID).create(Addition(**(fields | changes)))


def test_a_catalog_item_is_stored_with_defaults_and_its_category(client) -> None:
    made = client.catalog.create(item())
    assert made.id is not None and made.product_class == "NonInventory"
    assert made.category is not None and made.category.name == "Software"
    assert made.price == Decimal("10.5") and made.inactive_flag is False
    assert client.catalog.by_identifier("pc_SKU_1").id == made.id  # case-insensitive


def test_every_broken_rule_is_listed_with_its_field(client, sim_config) -> None:
    sim_config.catalog_identifier_length = 25
    with pytest.raises(ValidationError) as caught:
        # Raw, since the typed model would refuse the product class before sending.
        client.request(
            "POST",
            "procurement/catalog",
            json={"identifier": "X" * 26, "type": {"id": 9999}, "productClass": "Gadget"},
        )
    error = caught.value
    assert error.code == "InvalidObject" and error.status == 400
    assert error.fields() == {"identifier", "description", "type/id", "subcategory", "productClass"}
    codes = {d.field: d.code for d in error.details}
    assert codes["identifier"] == "MaxLengthField" and codes["type/id"] == "NotFound"


def test_identifiers_are_unique_case_insensitively(client) -> None:
    client.catalog.create(item())
    with pytest.raises(DuplicateError) as caught:
        client.catalog.create(item(identifier="pc_sku_1"))
    assert caught.value.fields() == {"identifier"}


def test_patch_replaces_fields_and_keeps_the_rules(client, sim) -> None:
    made = client.catalog.create(item())
    other = client.catalog.create(item(identifier="PC_sku_2"))
    changed = client.catalog.patch(made.id, CatalogItem(price=Decimal(12), inactive_flag=True))
    assert changed.price == Decimal(12) and changed.inactive_flag is True
    assert sim.record("catalog", made.id)["description"] == "Widget seat"
    with pytest.raises(DuplicateError):
        client.catalog.patch(other.id, [patch.replace("identifier", "PC_SKU_1")])
    with pytest.raises(ValidationError, match="unknown path"):
        client.catalog.patch(made.id, [patch.replace("nosuch", 1)])
    with pytest.raises(ValidationError, match="inside a field"):
        client.request(
            "PATCH",
            f"procurement/catalog/{made.id}",
            json=[{"op": "replace", "path": "type/id", "value": 1}],
        )
    with pytest.raises(ValidationError, match="array"):
        client.request("PATCH", f"procurement/catalog/{made.id}", json={"price": 1})


def test_an_addition_takes_the_products_price_and_derives_its_totals(client) -> None:
    made = add(client, less_included=Decimal(1))
    assert made.agreement_id == AGREEMENT_ID and made.unit_price == Decimal(33)
    assert made.ext_price == Decimal(132) and made.agreement_status == "Active"
    assert made.product is not None and made.product.identifier == "MS-365-BP"
    listed = [a.id for a in client.agreements.additions(AGREEMENT_ID).list()]
    assert listed == [EXISTING_ADDITION_ID, made.id]


def test_a_lost_answer_keeps_the_write_the_caller_cannot_see(client, sim) -> None:
    before = {a["id"] for a in sim.records("additions")}
    sim.add_fault(Fault(502, method="POST", path="/additions", after_write=True))

    with pytest.raises(ServerError):
        add(client, quantity=Decimal(7))

    (made,) = [a for a in sim.records("additions") if a["id"] not in before]
    assert made["quantity"] == 7
    assert [m for m, _ in sim.lost_answers] == ["POST"]
    # and the fault was taken once: the next write is answered
    assert add(client).quantity == Decimal(5)


def test_an_addition_needs_a_product_a_bill_customer_and_ordered_dates(client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.agreements.additions(AGREEMENT_ID).create(
            Addition(effective_date=date(2026, 3, 1), cancelled_date=date(2026, 2, 1))
        )
    assert caught.value.fields() == {"product", "billCustomer", "cancelledDate"}
    with pytest.raises(ValidationError) as before_start:
        add(client, effective_date=date(2024, 12, 31))
    assert before_start.value.fields() == {"effectiveDate"}
    with pytest.raises(NotFoundError):
        client.agreements.additions(999).create(Addition(product=Reference.to(EXISTING_ITEM_ID)))


def test_an_inactive_product_cannot_be_added(client) -> None:
    made = client.catalog.create(item(inactive_flag=True))
    with pytest.raises(ValidationError) as caught:
        add(client, product=Reference.to(made.id))
    assert caught.value.fields() == {"product/id"}


def test_before_billing_an_addition_changes_freely(client) -> None:
    made = add(client)
    changed = client.agreements.additions(AGREEMENT_ID).patch(
        made.id, Addition(quantity=Decimal(8), effective_date=date(2026, 2, 12))
    )
    assert changed.quantity == Decimal(8) and changed.effective_date == date(2026, 2, 12)


def test_an_invoice_run_prorates_by_the_days_in_effect(client, sim) -> None:
    made = add(client, effective_date=date(2026, 2, 15))
    cancelled = add(client, effective_date=date(2026, 2, 1), cancelled_date=date(2026, 2, 8))
    lines = {line["additionId"]: line for line in sim.invoice_month(AGREEMENT_ID, date(2026, 2, 1))}
    assert lines[EXISTING_ADDITION_ID]["amount"] == 12 * 33.0  # the whole month
    assert lines[made.id]["days"] == 14 and lines[made.id]["amount"] == round(165 * 14 / 28, 2)
    assert lines[cancelled.id]["days"] == 7


def test_billed_history_is_kept_and_a_change_is_cancel_and_add(client, sim) -> None:
    additions = client.agreements.additions(AGREEMENT_ID)
    sim.invoice_month(AGREEMENT_ID, date(2026, 1, 1))  # billed through 2026-02-01
    with pytest.raises(ValidationError) as caught:
        additions.patch(EXISTING_ADDITION_ID, Addition(quantity=Decimal(15)))
    assert caught.value.fields() == {"quantity"}
    with pytest.raises(ValidationError) as too_early:
        additions.patch(EXISTING_ADDITION_ID, Addition(cancelled_date=date(2026, 1, 20)))
    assert too_early.value.fields() == {"cancelledDate"}
    # The change from 2026-02-10: cancel the old line there and add the new quantity.
    ended = additions.patch(EXISTING_ADDITION_ID, Addition(cancelled_date=date(2026, 2, 10)))
    assert ended.cancelled_date == date(2026, 2, 10) and ended.quantity == Decimal(12)
    new = add(client, quantity=Decimal(15), effective_date=date(2026, 2, 10))
    lines = {line["additionId"]: line for line in sim.invoice_month(AGREEMENT_ID, date(2026, 2, 1))}
    assert lines[EXISTING_ADDITION_ID]["days"] == 9 and lines[new.id]["days"] == 19


def test_an_addition_can_be_deleted(client) -> None:
    made = add(client)
    client.agreements.additions(AGREEMENT_ID).delete(made.id)
    with pytest.raises(NotFoundError):
        client.agreements.additions(AGREEMENT_ID).get(made.id)


def test_put_replaces_the_whole_item(client) -> None:
    made = client.catalog.create(item(customer_description="Long text"))
    body = {
        "identifier": "PC_sku_1",
        "description": "Renamed",
        "type": {"id": PRODUCT_TYPE_ID},
        "subcategory": {"id": SUBCATEGORY_ID},
    }
    replaced = client.request("PUT", f"procurement/catalog/{made.id}", json=body)
    # Fields not given return to their defaults (Developer Guide, Put).
    assert replaced["customerDescription"] == "Renamed" and replaced["price"] == 0.0
    assert replaced["id"] == made.id


def _over(http) -> ConnectWiseClient:
    creds = Credentials(
        DEFAULT_COMPANY_ID, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY, DEFAULT_CLIENT_ID
    )
    return ConnectWiseClient(creds, http=http, retry=RetryPolicy(max_retries=0))


def test_a_simulator_with_a_state_file_is_restarted_as_it_was_left(tmp_path, clock) -> None:
    state = str(tmp_path / "cw.sqlite3")
    first = Simulator(SimConfig(clock=clock, state_path=state))
    seeded = {e: len(first.records(e)) for e in ("companies", "agreements", "additions")}
    with sim_http_client(create_app(simulator=first)) as http:
        made = add(_over(http), quantity=Decimal(9))
    first.invoice_month(AGREEMENT_ID, date(2026, 1, 1))  # billed through 2026-02-01
    first.close()

    again = Simulator(SimConfig(clock=clock, state_path=state))
    # the addition is there and the seed is not laid down a second time
    assert again.record("additions", made.id) == first.record("additions", made.id)
    assert {e: len(again.records(e)) for e in seeded} == seeded | {
        "additions": seeded["additions"] + 1
    }
    with sim_http_client(create_app(simulator=again)) as http:
        client = _over(http)
        # ids go on where they stopped
        assert add(client).id == made.id + 1
        # and what was invoiced stays locked
        with pytest.raises(ValidationError) as caught:
            client.agreements.additions(AGREEMENT_ID).patch(
                EXISTING_ADDITION_ID, Addition(quantity=Decimal(15))
            )
    assert caught.value.fields() == {"quantity"}
    again.close()
