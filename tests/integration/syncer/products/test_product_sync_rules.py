"""S3 and S7 against the Autotask simulator: what the product sync writes, one rule a test
(services made, prices kept up to date, nothing deleted, clashes and long texts reported)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from prism_tables.sync.products import ProductServiceLink
from tests.integration.syncer.products.support import items, run, services, sku, writes
from tests.support.psa import (
    RECURRING_CODE_ID,
    add_product,
    psa_config,
    set_price,
)

pytestmark = pytest.mark.integration


def test_first_sync_creates_one_pc_service_per_product_at_rrp_and_buy_price(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    # given two products on the price list
    a, b = sku(), sku()
    add_product(sync_engine, program, a, buy="8.10", rrp="9.00")
    add_product(sync_engine, program, b, buy="20.00", rrp="25.50")

    # when the products are synced
    result = run(sync_engine, autotask, partner, program)

    # then each has an active PC_ service with RRP as price and buy price as cost
    created = services(autotask)
    assert float(created[f"PC_{a}"]["unitPrice"]) == 9.0
    assert float(created[f"PC_{a}"]["unitCost"]) == 8.1
    assert float(created[f"PC_{b}"]["unitPrice"]) == 25.5
    assert created[f"PC_{b}"]["isActive"] is True
    assert created[f"PC_{b}"]["billingCodeID"] == RECURRING_CODE_ID
    assert (result.status, result.created, result.products_synced) == ("SUCCESS", 2, 2)
    assert {i.outcome for i in items(sync_engine, result.id).values()} == {"SUCCESS"}


def test_a_second_sync_with_nothing_changed_writes_nothing(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    add_product(sync_engine, program, sku())
    add_product(sync_engine, program, sku())
    run(sync_engine, autotask, partner, program)
    autotask.sim.request_log.clear()

    result = run(sync_engine, autotask, partner, program)

    assert result.status == "NO_CHANGE"
    assert (result.unchanged, result.products_synced) == (2, 0)
    assert writes(autotask) == []
    # reads are minimal too: one query for the linked services (the zone lookup is free)
    counted = [p for _, p, _ in autotask.sim.request_log if not p.endswith("ZoneInformation")]
    assert counted == ["/ATServicesRest/V1.0/Services/query"]


def test_later_syncs_change_only_price_and_cost_by_service_id_and_keep_renames(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code, buy="8.10", rrp="9.00")
    run(sync_engine, autotask, partner, program)
    service = services(autotask)[f"PC_{code}"]
    # the partner renames the service and edits its description in Autotask
    autotask.sim.edit("Services", service["id"], name="Office basic", description="mine")
    set_price(sync_engine, product, buy="8.50", rrp="9.90", day=date(2026, 2, 1))
    autotask.sim.request_log.clear()

    result = run(sync_engine, autotask, partner, program)

    after = autotask.sim.record("Services", service["id"])
    assert after is not None
    assert (after["name"], after["description"]) == ("Office basic", "mine")
    assert (float(after["unitPrice"]), float(after["unitCost"])) == (9.9, 8.5)
    assert result.status == "SUCCESS" and result.updated == 1
    assert writes(autotask) == ["PATCH /ATServicesRest/V1.0/Services"]


def test_a_price_change_of_one_millionth_reaches_the_psa(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    # given a synced product priced to six decimals
    code = sku()
    product = add_product(sync_engine, program, code, buy="8.123456", rrp="9.123456")
    run(sync_engine, autotask, partner, program)
    service_id = services(autotask)[f"PC_{code}"]["id"]
    set_price(sync_engine, product, buy="8.123456", rrp="9.123457", day=date(2026, 2, 1))

    # when the RRP moves by 0.000001 and products are synced
    result = run(sync_engine, autotask, partner, program)

    # then the service gets the new price
    after = autotask.sim.record("Services", service_id)
    assert after is not None and float(after["unitPrice"]) == 9.123457
    assert result.status == "SUCCESS" and result.updated == 1


@pytest.mark.parametrize(
    ("rrp", "held_as"),
    [
        # Autotask keeps a double and may print it in full
        ("9.123456", 9.123455999999999),
        # 20 significant digits: no double holds it, the PSA keeps the nearest one
        ("12345678901234.123456", 12345678901234.123),
    ],
)
def test_a_price_the_psa_holds_as_its_double_is_not_written_again(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int, rrp: str, held_as: float
) -> None:
    # given a synced product whose price the PSA holds as a double
    code = sku()
    add_product(sync_engine, program, code, buy="1.000001", rrp=rrp)
    run(sync_engine, autotask, partner, program)
    service_id = services(autotask)[f"PC_{code}"]["id"]
    autotask.sim.edit("Services", service_id, unitPrice=held_as)
    autotask.sim.request_log.clear()

    # when products are synced again, twice
    first = run(sync_engine, autotask, partner, program)
    second = run(sync_engine, autotask, partner, program)

    # then nothing is written: no endless updates
    assert (first.status, second.status) == ("NO_CHANGE", "NO_CHANGE")
    assert writes(autotask) == []


def test_a_service_deleted_in_autotask_is_recreated(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code)
    run(sync_engine, autotask, partner, program)
    old = services(autotask)[f"PC_{code}"]["id"]
    autotask.sim.delete("Services", old)

    result = run(sync_engine, autotask, partner, program)

    new = services(autotask)[f"PC_{code}"]["id"]
    assert new != old
    assert items(sync_engine, result.id)[code].action == "RECREATE"
    with Session(sync_engine) as session:
        assert session.scalar(select(ProductServiceLink.service_id)) == new


def test_an_inactive_service_stays_inactive_but_its_price_is_kept_up_to_date(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code)
    run(sync_engine, autotask, partner, program)
    service_id = services(autotask)[f"PC_{code}"]["id"]
    autotask.sim.deactivate_service(service_id)
    set_price(sync_engine, product, buy="1.00", rrp="2.00", day=date(2026, 3, 1))

    run(sync_engine, autotask, partner, program)

    after = autotask.sim.record("Services", service_id)
    assert after is not None and after["isActive"] is False
    assert float(after["unitPrice"]) == 2.0


def test_a_product_gone_from_the_price_list_never_deletes_its_service(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    product = add_product(sync_engine, program, code)
    run(sync_engine, autotask, partner, program)
    with Session(sync_engine) as session, session.begin():
        from prism_tables.catalogue import Product

        row = session.get(Product, product)
        assert row is not None
        row.retired = True

    result = run(sync_engine, autotask, partner, program)

    assert f"PC_{code}" in services(autotask)
    assert services(autotask)[f"PC_{code}"]["isActive"] is True
    assert items(sync_engine, result.id)[code].action == "SKIP"


def test_a_name_taken_by_a_service_prism_did_not_create_is_an_item_error_with_the_fix(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    taken, free = sku(), sku()
    add_product(sync_engine, program, taken)
    add_product(sync_engine, program, free)
    # someone created PC_<sku> by hand before Prism's first sync
    run_one = psa_config(autotask).autotask
    from autotask_sim import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME
    from prism_domain.sync import Credentials

    psa = run_one(Credentials(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE))
    from decimal import Decimal

    from prism_psa.port import NewService

    psa.create_service(
        NewService(
            f"PC_{taken}", "by hand", "by hand", Decimal(1), Decimal(1), RECURRING_CODE_ID, None
        )
    )

    result = run(sync_engine, autotask, partner, program)

    item = items(sync_engine, result.id)[taken]
    assert item.outcome == "ERROR"
    assert item.message is not None
    assert f"PC_{taken}" in item.message and "Rename or delete that service" in item.message
    assert items(sync_engine, result.id)[free].outcome == "SUCCESS"  # the others go on
    assert (result.status, result.failed, result.created) == ("FAILURE", 1, 1)


def test_long_texts_are_truncated_to_400_and_1000_with_a_warning(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code, description="x" * 1500)

    result = run(sync_engine, autotask, partner, program)

    created = services(autotask)[f"PC_{code}"]
    assert len(created["description"]) == 400
    assert len(created["invoiceDescription"]) == 1000
    item = items(sync_engine, result.id)[code]
    assert item.outcome == "WARNING" and "truncated" in (item.message or "")
    assert result.status == "WARNING"
