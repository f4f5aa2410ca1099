"""S3 and S7 on both PSAs (`psa_side`: Autotask services, ConnectWise catalog items): what the
product sync writes, one rule a test (services made, prices kept up to date, nothing
deleted, clashes and long texts reported)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.sync import PsaKind
from prism_tables.catalogue import Product
from prism_tables.sync.products import ProductServiceLink
from tests.integration.syncer.products.support import (
    BILLING_CODE,
    CW_API,
    add_by_hand,
    clear_log,
    delete,
    edit,
    items,
    reads,
    run,
    service,
    services,
    sku,
    writes,
)
from tests.support.psa import add_product, set_price
from tests.support.sides import PsaSide

pytestmark = pytest.mark.integration


def test_first_sync_creates_one_pc_service_per_product_at_rrp_and_buy_price(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    # given two products on the price list
    a, b = sku(), sku()
    add_product(sync_engine, program, a, buy="8.10", rrp="9.00")
    add_product(sync_engine, program, b, buy="20.00", rrp="25.50")

    # when the products are synced
    result = run(sync_engine, psa_side, partner, program)

    # then each has an active PC_ service with RRP as price and buy price as cost, in the
    # program's billing code (ConnectWise: subcategory), its texts the product's name
    created = services(psa_side)
    assert (created[f"PC_{a}"]["price"], created[f"PC_{a}"]["cost"]) == (9.0, 8.1)
    assert (created[f"PC_{b}"]["price"], created[f"PC_{b}"]["cost"]) == (25.5, 20.0)
    assert created[f"PC_{b}"]["active"] is True
    assert created[f"PC_{b}"]["billing_code"] == BILLING_CODE[psa_side.kind]
    assert created[f"PC_{b}"]["description"] == f"Product {b}"
    assert created[f"PC_{b}"]["invoice_description"] == f"Product {b}"
    assert (result.status, result.created, result.products_synced) == ("SUCCESS", 2, 2)
    assert {i.outcome for i in items(sync_engine, result.id).values()} == {"SUCCESS"}


#: The one read a sync with nothing to do sends: the linked services by id.
LINKED_SERVICES_READ = {
    PsaKind.AUTOTASK: ["POST /ATServicesRest/V1.0/Services/query"],
    PsaKind.CONNECTWISE: [f"GET {CW_API}/procurement/catalog"],
}


def test_a_second_sync_with_nothing_changed_writes_nothing(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    add_product(sync_engine, program, sku())
    add_product(sync_engine, program, sku())
    run(sync_engine, psa_side, partner, program)
    clear_log(psa_side)

    result = run(sync_engine, psa_side, partner, program)

    assert result.status == "NO_CHANGE"
    assert (result.unchanged, result.products_synced) == (2, 0)
    assert writes(psa_side) == []
    # reads are minimal too: one query for the linked services
    assert reads(psa_side) == LINKED_SERVICES_READ[psa_side.kind]


def test_later_syncs_change_only_price_and_cost_by_service_id_and_keep_renames(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code, buy="8.10", rrp="9.00")
    run(sync_engine, psa_side, partner, program)
    service_id = services(psa_side)[f"PC_{code}"]["id"]
    # the partner renames the service and edits its description in the PSA
    edit(psa_side, service_id, name="Office basic", description="mine")
    set_price(sync_engine, product, buy="8.50", rrp="9.90", day=date(2026, 2, 1))
    clear_log(psa_side)

    result = run(sync_engine, psa_side, partner, program)

    after = service(psa_side, service_id)
    assert after is not None
    assert (after["name"], after["description"], after["active"]) == ("Office basic", "mine", True)
    assert (after["price"], after["cost"]) == (9.9, 8.5)
    assert result.status == "SUCCESS" and result.updated == 1
    assert (
        writes(psa_side)
        == {
            PsaKind.AUTOTASK: ["PATCH /ATServicesRest/V1.0/Services"],  # the id is in the body
            PsaKind.CONNECTWISE: [f"PATCH {CW_API}/procurement/catalog/{service_id}"],
        }[psa_side.kind]
    )


def test_a_price_change_of_one_millionth_reaches_the_psa(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    # given a synced product priced to six decimals
    code = sku()
    product = add_product(sync_engine, program, code, buy="8.123456", rrp="9.123456")
    run(sync_engine, psa_side, partner, program)
    service_id = services(psa_side)[f"PC_{code}"]["id"]
    set_price(sync_engine, product, buy="8.123456", rrp="9.123457", day=date(2026, 2, 1))

    # when the RRP moves by 0.000001 and products are synced
    result = run(sync_engine, psa_side, partner, program)

    # then the service gets the new price
    after = service(psa_side, service_id)
    assert after is not None and after["price"] == 9.123457
    assert result.status == "SUCCESS" and result.updated == 1


@pytest.mark.parametrize(
    ("rrp", "held_as"),
    [
        # both PSAs keep a double (ConnectWise's JSON numbers too) and may print it in full
        ("9.123456", 9.123455999999999),
        # 20 significant digits: no double holds it, the PSA keeps the nearest one
        ("12345678901234.123456", 12345678901234.123),
    ],
)
def test_a_price_the_psa_holds_as_its_double_is_not_written_again(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int, rrp: str, held_as: float
) -> None:
    # given a synced product whose price the PSA holds as a double
    code = sku()
    add_product(sync_engine, program, code, buy="1.000001", rrp=rrp)
    run(sync_engine, psa_side, partner, program)
    service_id = services(psa_side)[f"PC_{code}"]["id"]
    edit(psa_side, service_id, price=held_as)
    clear_log(psa_side)

    # when products are synced again, twice
    first = run(sync_engine, psa_side, partner, program)
    second = run(sync_engine, psa_side, partner, program)

    # then nothing is written: no endless updates
    assert (first.status, second.status) == ("NO_CHANGE", "NO_CHANGE")
    assert writes(psa_side) == []


def test_a_service_deleted_in_the_psa_is_recreated(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code)
    run(sync_engine, psa_side, partner, program)
    old = services(psa_side)[f"PC_{code}"]["id"]
    delete(psa_side, old)

    result = run(sync_engine, psa_side, partner, program)

    new = services(psa_side)[f"PC_{code}"]["id"]
    assert new != old
    assert items(sync_engine, result.id)[code].action == "RECREATE"
    with Session(sync_engine) as session:
        assert session.scalar(select(ProductServiceLink.service_id)) == new


def test_an_inactive_service_stays_inactive_but_its_price_is_kept_up_to_date(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code)
    run(sync_engine, psa_side, partner, program)
    service_id = services(psa_side)[f"PC_{code}"]["id"]
    edit(psa_side, service_id, active=False)
    set_price(sync_engine, product, buy="1.00", rrp="2.00", day=date(2026, 3, 1))

    run(sync_engine, psa_side, partner, program)

    after = service(psa_side, service_id)
    assert after is not None and after["active"] is False
    assert (after["price"], after["cost"]) == (2.0, 1.0)


def test_a_product_gone_from_the_price_list_never_deletes_its_service(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code)
    run(sync_engine, psa_side, partner, program)
    with Session(sync_engine) as session, session.begin():
        row = session.get(Product, product)
        assert row is not None
        row.retired = True
    clear_log(psa_side)

    result = run(sync_engine, psa_side, partner, program)

    assert services(psa_side)[f"PC_{code}"]["active"] is True
    assert items(sync_engine, result.id)[code].action == "SKIP"
    assert writes(psa_side) == []


def test_a_name_taken_by_a_service_prism_did_not_create_is_an_item_error_with_the_fix(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    taken, free = sku(), sku()
    add_product(sync_engine, program, taken)
    add_product(sync_engine, program, free)
    # someone created PC_<sku> by hand before Prism's first sync (ConnectWise: an identifier
    # is unique whatever its case, as Autotask's name is)
    by_hand = add_by_hand(sync_engine, psa_side, partner, program, f"pc_{taken.lower()}")

    result = run(sync_engine, psa_side, partner, program)

    item = items(sync_engine, result.id)[taken]
    assert item.outcome == "ERROR"
    assert item.message is not None
    assert f"PC_{taken}" in item.message and "Rename or delete that service" in item.message
    assert "IX_service" not in item.message  # no PSA's own error text, on either PSA
    assert items(sync_engine, result.id)[free].outcome == "SUCCESS"  # the others go on
    assert (result.status, result.failed, result.created) == ("FAILURE", 1, 1)
    untouched = service(psa_side, by_hand)
    assert untouched is not None and (untouched["description"], untouched["price"]) == (
        "by hand",
        1.0,
    )


#: How long each PSA lets a service's description and invoice description be (ConnectWise:
#: a catalog item's description and customerDescription).
TEXT_LIMITS = {PsaKind.AUTOTASK: (400, 1000), PsaKind.CONNECTWISE: (60, 6000)}


def test_long_texts_are_truncated_to_the_psas_limits_with_a_warning(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code, description="x" * 7000)

    result = run(sync_engine, psa_side, partner, program)

    description, invoice_description = TEXT_LIMITS[psa_side.kind]
    created = services(psa_side)[f"PC_{code}"]
    assert len(created["description"]) == description
    assert len(created["invoice_description"]) == invoice_description
    item = items(sync_engine, result.id)[code]
    assert item.outcome == "WARNING" and item.message is not None
    assert f"Description is longer than the PSA allows ({description} " in item.message
    assert f"description is longer than the PSA allows ({invoice_description} " in item.message
    assert result.status == "WARNING"
