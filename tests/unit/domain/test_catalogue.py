from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from prism_domain.catalogue import (
    BillingTerm,
    PriceListEntry,
    PriceVersion,
    Product,
    ProductKind,
    ProductPriceChanged,
    diff_price_list,
    price_changed,
)
from prism_domain.errors import DomainValidationError, ErrorCode
from prism_domain.events import EVENT_TYPES
from prism_domain.money import CurrencyMismatchError, Money

pytestmark = pytest.mark.unit


def aud(text: str) -> Money:
    return Money.of(text, "AUD")


def entry(**changes: Any) -> PriceListEntry:
    raw: dict[str, Any] = {
        "sku": "CFQ7TTC0LH18:0001",
        "name": "Microsoft 365 Business Basic",
        "description": "Monthly, per user",
        "buy_price": "8.2500",
        "rrp": "10.50",
        "billing_term": "monthly",
        "kind": "licence",
        "retired": "",
        "currency": "AUD",
    }
    raw.update(changes)
    return PriceListEntry.parse(**raw)


def errors_of(**changes: Any) -> dict[str | None, ErrorCode]:
    with pytest.raises(DomainValidationError) as info:
        entry(**changes)
    return {e.field: e.code for e in info.value.errors}


def test_a_price_list_entry_is_parsed_into_money_and_enums() -> None:
    e = entry()
    assert e.buy_price == aud("8.25") and e.rrp == aud("10.50")
    assert (e.billing_term, e.kind, e.retired) == (BillingTerm.MONTHLY, ProductKind.LICENCE, False)
    assert e.warnings() == []
    assert entry(kind="One-time fee", retired="yes").kind is ProductKind.ONE_TIME_FEE
    assert entry(kind="License", billing_term="Yearly").billing_term is BillingTerm.ANNUAL


def test_every_bad_field_is_reported_at_once() -> None:
    assert errors_of(
        sku="bad sku!",
        name=" ",
        buy_price="-1",
        rrp="ten",
        billing_term="weekly",
        kind=None,
        retired="maybe",
    ) == {
        "sku": ErrorCode.INVALID,
        "name": ErrorCode.REQUIRED,
        "buy_price": ErrorCode.OUT_OF_RANGE,
        "rrp": ErrorCode.INVALID,
        "billing_term": ErrorCode.INVALID,
        "kind": ErrorCode.REQUIRED,
        "retired": ErrorCode.INVALID,
    }


def test_sku_is_bounded() -> None:
    assert errors_of(sku="A" * 65) == {"sku": ErrorCode.TOO_LONG}
    assert entry(sku="00282a15-250d-4e01-8534-aa9866c3f252").sku.startswith("00282a15")


def test_selling_below_cost_is_a_warning_not_an_error() -> None:
    e = entry(buy_price="12", rrp="10")
    assert [(w.field, w.code) for w in e.warnings()] == [("rrp", ErrorCode.BELOW_COST)]


def product(*versions: PriceVersion) -> Product:
    return Product(
        sku="SKU-1",
        name="Thing",
        billing_term=BillingTerm.MONTHLY,
        kind=ProductKind.LICENCE,
        prices=versions,
    )


def test_the_price_in_force_is_the_latest_effective_on_or_before_the_day() -> None:
    jan = PriceVersion(date(2026, 1, 1), aud("8"), aud("10"))
    jul = PriceVersion(date(2026, 7, 1), aud("9"), aud("11"))
    p = product(jul, jan)
    assert p.prices == (jan, jul)
    assert p.price_on(date(2025, 12, 31)) is None
    assert p.price_on(date(2026, 6, 30)) == jan
    assert p.price_on(date(2026, 7, 1)) == jul
    fixed = PriceVersion(date(2026, 7, 1), aud("9.5"), aud("11"))
    assert p.with_price(fixed).prices == (jan, fixed)


def test_price_versions_share_one_currency_and_one_version_per_day() -> None:
    with pytest.raises(CurrencyMismatchError):
        product(
            PriceVersion(date(2026, 1, 1), aud("8"), aud("10")),
            PriceVersion(date(2026, 2, 1), Money.of("8", "USD"), Money.of("10", "USD")),
        )
    with pytest.raises(ValueError):
        product(*[PriceVersion(date(2026, 1, 1), aud("8"), aud("10"))] * 2)
    with pytest.raises(CurrencyMismatchError):
        PriceVersion(date(2026, 1, 1), aud("8"), Money.of("10", "USD"))


def test_a_price_change_raises_a_registered_event_of_json_primitives() -> None:
    before = PriceVersion(date(2026, 1, 1), aud("8.25"), aud("10.50"))
    after = PriceVersion(date(2026, 7, 1), aud("8.25"), aud("11.00"))

    event = price_changed(product_id=5, program_id=1, sku="SKU-1", before=before, after=after)

    assert event is not None
    assert EVENT_TYPES["product.price_changed"] is ProductPriceChanged
    raw = event.envelope().to_dict()
    json.dumps(raw)
    assert raw["aggregate_id"] == "5"
    assert raw["payload"] == {
        "program_id": 1,
        "sku": "SKU-1",
        "currency": "AUD",
        "effective_from": "2026-07-01",
        "old_buy_price": "8.25",
        "old_rrp": "10.50",
        "new_buy_price": "8.25",
        "new_rrp": "11.00",
    }


def test_the_same_prices_again_are_no_change() -> None:
    v = PriceVersion(date(2026, 1, 1), aud("8"), aud("10"))
    later = PriceVersion(date(2026, 2, 1), aud("8.00"), aud("10.0"))
    assert price_changed(product_id=1, program_id=1, sku="S", before=v, after=later) is None
    first = price_changed(product_id=1, program_id=1, sku="S", before=None, after=v)
    assert first is not None and first.old_rrp is None


def test_a_dry_run_diff_sorts_every_sku_into_one_bucket() -> None:
    current = [
        entry(sku="SAME"),
        entry(sku="PRICE"),
        entry(sku="RENAMED"),
        entry(sku="TO-RETIRE"),
        entry(sku="GONE"),
        entry(sku="OLD", retired="yes"),
    ]
    incoming = [
        entry(sku="same"),
        entry(sku="PRICE", rrp="12"),
        entry(sku="RENAMED", name="New name"),
        entry(sku="TO-RETIRE", retired="true", rrp="1"),
        entry(sku="NEW"),
    ]

    diff = diff_price_list(current, incoming)

    assert [e.sku for e in diff.created] == ["NEW"]
    assert [e.sku for e in diff.retired] == ["TO-RETIRE"]
    assert [(c.sku, c.before.rrp, c.after.rrp) for c in diff.price_changed] == [
        ("PRICE", aud("10.50"), aud("12"))
    ]
    assert [e.sku for e in diff.updated] == ["RENAMED"]
    assert diff.unchanged == ("same",)
    assert diff.has_changes


def test_a_whole_list_retires_what_it_no_longer_holds() -> None:
    current = [entry(sku="KEEP"), entry(sku="GONE"), entry(sku="OLD", retired="yes")]
    diff = diff_price_list(current, [entry(sku="KEEP")], retire_missing=True)
    assert [(e.sku, e.retired) for e in diff.retired] == [("GONE", True)]
    assert not diff_price_list(current, [entry(sku="KEEP")]).has_changes
