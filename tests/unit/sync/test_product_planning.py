"""S3 planning rules, PSA-neutral and pure: no database, no PSA."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prism_syncer.products.planning import Action, CatalogueItem, Link, plan_products
from prism_syncer.psa.port import FieldLimits, PsaService

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
