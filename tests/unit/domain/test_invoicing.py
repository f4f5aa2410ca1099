from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from prism_domain.catalogue import BillingTerm, PriceVersion, Product, ProductKind
from prism_domain.errors import DomainValidationError, ErrorCode
from prism_domain.events import EVENT_TYPES
from prism_domain.invoicing import (
    Adjustment,
    Invoice,
    InvoiceIssued,
    LineKind,
    OneTimeCharge,
    UsageRecord,
    build_invoice,
)
from prism_domain.money import CurrencyMismatchError, Money
from prism_domain.periods import Period
from prism_domain.subscriptions import Subscription

pytestmark = pytest.mark.unit

NOV = Period.month(2026, 11)


def aud(text: str) -> Money:
    return Money.of(text, "AUD")


def product(
    sku: str,
    term: BillingTerm,
    *prices: tuple[date, str, str],
    kind: ProductKind = ProductKind.LICENCE,
) -> Product:
    return Product(
        sku=sku,
        name=f"Product {sku}",
        billing_term=term,
        kind=kind,
        prices=tuple(PriceVersion(d, aud(cost), aud(rrp)) for d, cost, rrp in prices),
    )


PRODUCTS = {
    "BB-M": product("BB-M", BillingTerm.MONTHLY, (date(2026, 1, 1), "20.625", "26.40")),
    "BB-Y": product("BB-Y", BillingTerm.ANNUAL, (date(2026, 1, 1), "240", "300")),
    "AZURE": product(
        "AZURE", BillingTerm.MONTHLY, (date(2026, 1, 1), "0", "0"), kind=ProductKind.USAGE
    ),
}


def monthly(**kw: Any) -> Subscription:
    raw: dict[str, Any] = {
        "id": 1,
        "customer_id": 7,
        "sku": "BB-M",
        "billing_term": BillingTerm.MONTHLY,
        "start": date(2026, 10, 3),
        "quantity": 10,
    }
    raw.update(kw)
    return Subscription.create(**raw)


def invoice(*subs: Subscription, **kw: Any) -> Invoice:
    args: dict[str, Any] = {
        "invoice_id": 99,
        "partner_id": 2,
        "program_id": 3,
        "period": NOV,
        "currency": "AUD",
        "subscriptions": subs,
        "products": PRODUCTS,
    }
    args.update(kw)
    return build_invoice(**args)


def summary(inv: Invoice) -> list[tuple[Any, ...]]:
    return [
        (ln.kind, ln.period.start.day, ln.period.end.isoformat(), ln.quantity, ln.amount.to_json())
        for ln in inv.lines
    ]


def test_mid_month_changes_give_one_prorated_line_per_quantity() -> None:
    s = monthly().change_quantity(date(2026, 11, 10), 15).change_quantity(date(2026, 11, 20), 0)

    inv = invoice(s)

    assert summary(inv) == [
        (LineKind.SUBSCRIPTION, 1, "2026-11-09", 10, "61.88"),  # 206.25 x 9/30 = 61.875
        (LineKind.SUBSCRIPTION, 10, "2026-11-19", 15, "103.13"),  # 309.375 x 10/30
        (LineKind.SUBSCRIPTION, 20, "2026-11-30", 0, "0.00"),
    ]
    line = inv.lines[0]
    assert (line.unit_cost, line.unit_price, line.billing_term) == (
        aud("20.625"),
        aud("26.40"),
        BillingTerm.MONTHLY,
    )
    assert inv.total == aud("165.01")


def test_a_whole_month_at_one_quantity_is_one_line() -> None:
    assert summary(invoice(monthly())) == [(LineKind.SUBSCRIPTION, 1, "2026-11-30", 10, "206.25")]


def test_the_price_is_locked_on_the_first_billed_day_of_the_month() -> None:
    products = {
        "BB-M": product(
            "BB-M",
            BillingTerm.MONTHLY,
            (date(2026, 1, 1), "10", "12"),
            (date(2026, 11, 15), "20", "24"),
        )
    }
    assert invoice(monthly(), products=products).total == aud("100.00")
    december = invoice(monthly(), products=products, period=Period.month(2026, 12))
    assert december.total == aud("200.00")


def test_an_annual_term_is_billed_up_front_and_changes_prorated_to_its_end() -> None:
    s = monthly(
        id=2, sku="BB-Y", billing_term=BillingTerm.ANNUAL, start=date(2025, 11, 15), quantity=3
    )
    s = s.change_quantity(date(2026, 11, 20), 5)

    inv = invoice(s)

    assert summary(inv) == [
        (LineKind.SUBSCRIPTION, 15, "2027-11-14", 3, "720.00"),
        (LineKind.SUBSCRIPTION, 20, "2027-11-14", 2, "473.42"),  # 480 x 360/365
    ]
    assert invoice(s, period=Period.month(2026, 12)).lines == ()


def test_cancelling_an_annual_term_credits_the_rest_of_it() -> None:
    s = monthly(sku="BB-Y", billing_term=BillingTerm.ANNUAL, start=date(2026, 6, 1), quantity=2)
    inv = invoice(s.cancel(date(2026, 11, 1)))
    assert summary(inv) == [
        (LineKind.SUBSCRIPTION, 1, "2027-05-31", -2, "-278.79")
    ]  # 480 x 212/365


def test_usage_fees_and_adjustments_are_lines_of_their_own() -> None:
    usage = [
        UsageRecord(7, "AZURE", date(2026, 11, d), Decimal("1.5"), aud("0.333"), aud("0.40"))
        for d in (1, 2, 30)
    ] + [UsageRecord(7, "AZURE", date(2026, 12, 1), Decimal("99"), aud("1"), aud("1"))]
    azure_sub = monthly(id=5, sku="AZURE", quantity=1)

    inv = invoice(
        azure_sub,
        usage=usage,
        one_time=[OneTimeCharge(7, "SETUP", date(2026, 11, 3), 1, aud("250"), aud("300"))],
        adjustments=[Adjustment(8, date(2026, 11, 4), aud("-12.345"), "Goodwill credit")],
    )

    assert summary(inv) == [
        (LineKind.USAGE, 1, "2026-11-30", Decimal("4.5"), "1.50"),  # 4.5 x 0.333 = 1.4985
        (LineKind.ONE_TIME_FEE, 3, "2026-11-03", 1, "250.00"),
        (LineKind.ADJUSTMENT, 4, "2026-11-04", 1, "-12.35"),
    ]
    assert inv.total == aud("239.15")


def test_a_subscription_without_a_price_stops_the_run_with_field_errors() -> None:
    late = product("LATE", BillingTerm.MONTHLY, (date(2026, 11, 15), "1", "2"))
    with pytest.raises(DomainValidationError) as info:
        invoice(
            monthly(sku="NOPE"),
            monthly(id=2, sku="LATE"),
            products={**PRODUCTS, "LATE": late},
        )
    assert [(e.field, e.code) for e in info.value.errors] == [
        ("subscriptions[1]", ErrorCode.NOT_FOUND),
        ("subscriptions[2]", ErrorCode.NOT_FOUND),
    ]


def test_an_invoice_never_mixes_currencies() -> None:
    with pytest.raises(CurrencyMismatchError):
        invoice(monthly(), currency="USD")
    with pytest.raises(CurrencyMismatchError):
        invoice(adjustments=[Adjustment(1, date(2026, 11, 4), Money.of("1", "USD"), "x")])


def test_a_billing_period_is_a_calendar_month() -> None:
    with pytest.raises(ValueError):
        invoice(monthly(), period=Period(date(2026, 11, 2), date(2026, 11, 30)))


def test_issuing_raises_an_event_with_what_the_psa_sync_needs() -> None:
    inv = invoice(monthly().change_quantity(date(2026, 11, 10), 15))

    event = inv.issued_event()

    assert EVENT_TYPES["invoice.issued"] is InvoiceIssued
    raw = json.loads(json.dumps(event.envelope().to_dict()))
    assert raw["type"] == "invoice.issued" and raw["aggregate_id"] == "99"
    payload = raw["payload"]
    assert {k: payload[k] for k in payload if k != "lines"} == {
        "invoice_id": 99,
        "partner_id": 2,
        "program_id": 3,
        "currency": "AUD",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "total": "278.44",
    }
    assert payload["lines"][1] == {
        "customer_id": 7,
        "subscription_id": 1,
        "sku": "BB-M",
        "kind": "SUBSCRIPTION",
        "billing_term": "MONTHLY",
        "period_start": "2026-11-10",
        "period_end": "2026-11-30",
        "quantity": "15",
        "unit_cost": "20.625",
        "unit_price": "26.40",
        "amount": "216.56",  # 309.375 x 21/30 = 216.5625
        "description": "Product BB-M",
    }
    assert inv.key == "2:3:2026-11"
