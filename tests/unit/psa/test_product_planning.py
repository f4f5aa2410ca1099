"""S3 planning rules, PSA-neutral and pure: no database, no PSA."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prism_psa.port import FieldLimits, PsaService
from prism_psa.products.planning import Action, CatalogueItem, Link, plan_products

pytestmark = pytest.mark.unit

LIMITS = FieldLimits(description=400, invoice_description=1000)


def item(sku: str = "A", *, retired: bool = False, desc: str = "", rrp: str = "9") -> CatalogueItem:
    return CatalogueItem(1, sku, f"Product {sku}", desc, retired, Decimal("8"), Decimal(rrp))


def service(id: int = 10, *, price: str = "9", cost: str = "8", active: bool = True) -> PsaService:
    return PsaService(id, "Renamed", Decimal(price), Decimal(cost), active)


def test_new_product_is_created_as_pc_sku_at_rrp_and_buy_price() -> None:
    [planned] = plan_products([item("X1")], {}, {}, {}, LIMITS).items
    assert (planned.action, planned.service_name) == (Action.CREATE, "PC_X1")
    assert (planned.unit_price, planned.unit_cost) == (Decimal("9"), Decimal("8"))


def test_unchanged_prices_skip_and_changed_prices_update_by_id() -> None:
    links = {1: Link(1, 10)}
    [same] = plan_products([item()], links, {10: service()}, {}, LIMITS).items
    [moved] = plan_products([item(rrp="9.5")], links, {10: service()}, {}, LIMITS).items
    assert same.action is Action.SKIP
    assert (moved.action, moved.service_id) == (Action.UPDATE_PRICE, 10)


def test_money_compares_by_value_not_by_representation() -> None:
    [planned] = plan_products(
        [item(rrp="9.00")], {1: Link(1, 10)}, {10: service(price="9.0000")}, {}, LIMITS
    ).items
    assert planned.action is Action.SKIP


def test_deleted_service_is_recreated_and_name_clash_is_an_error() -> None:
    [recreate] = plan_products([item("A")], {1: Link(1, 10)}, {}, {}, LIMITS).items
    [clash] = plan_products([item("A")], {}, {}, {"pc_a": service(99)}, LIMITS).items
    assert recreate.action is Action.RECREATE
    assert clash.action is Action.ERROR and "PC_A" in (clash.message or "")


def test_texts_are_truncated_with_warnings() -> None:
    [planned] = plan_products([item(desc="y" * 1200)], {}, {}, {}, LIMITS).items
    assert len(planned.description or "") == 400
    assert len(planned.invoice_description or "") == 1000
    assert len(planned.warnings) == 2


def test_manual_mappings_are_never_written_and_retired_unmapped_is_an_error() -> None:
    [manual] = plan_products(
        [item(retired=True, rrp="1")], {1: Link(1, 10, manual=True)}, {10: service()}, {}, LIMITS
    ).items
    [unmapped] = plan_products([item(retired=True)], {}, {}, {}, LIMITS).items
    assert manual.action is Action.SKIP
    assert unmapped.action is Action.ERROR


def test_a_price_change_of_one_millionth_is_an_update() -> None:
    # given a service at the stored price; when the RRP moves by 0.000001; then it is updated
    links = {1: Link(1, 10)}
    [moved] = plan_products(
        [item(rrp="9.123457")], links, {10: service(price="9.123456")}, {}, LIMITS
    ).items
    [cost] = plan_products(
        [CatalogueItem(1, "A", "A", "", False, Decimal("8.000001"), Decimal("9"))],
        links,
        {10: service()},
        {},
        LIMITS,
    ).items
    assert (moved.action, moved.unit_price) == (Action.UPDATE_PRICE, Decimal("9.123457"))
    assert cost.action is Action.UPDATE_PRICE


@pytest.mark.parametrize(
    ("stored", "held_by_psa"),
    [
        ("9.123456", "9.123456"),
        ("9.123456", "9.1234559999999993"),  # the double Autotask keeps, printed in full
        ("9.123456", "9.12345600000001"),
        # no double holds 20 digits: the PSA answers with the nearest one, and always will
        ("12345678901234.123456", str(float("12345678901234.123456"))),
    ],
)
def test_a_price_the_psa_gives_back_as_its_double_is_no_change(
    stored: str, held_by_psa: str
) -> None:
    [planned] = plan_products(
        [item(rrp=stored)], {1: Link(1, 10)}, {10: service(price=held_by_psa)}, {}, LIMITS
    ).items
    assert planned.action is Action.SKIP
