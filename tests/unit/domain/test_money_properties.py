"""Properties of the money and billing rules (issue 6 item 6; SPEC O3, P2, P3)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prism_domain.catalogue import BillingTerm, PriceVersion, Product, ProductKind
from prism_domain.invoicing import Adjustment, UsageRecord, build_invoice
from prism_domain.money import CurrencyMismatchError, Money, sum_money
from prism_domain.periods import Period, prorate
from prism_domain.subscriptions import QuantityChange, Subscription

pytestmark = pytest.mark.unit

FAST = settings(max_examples=60, derandomize=True, deadline=None)
NOV = Period.month(2026, 11)
HALF_CENT = Decimal("0.005")

cents = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=2)
unit_prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=4)
currencies = st.sampled_from(["AUD", "NZD", "USD", "EUR", "GBP", "JPY"])
days_of_month = st.integers(min_value=1, max_value=28)
months = st.builds(
    Period.month,
    st.integers(min_value=2024, max_value=2030),
    st.integers(min_value=1, max_value=12),
)


@FAST
@given(months, st.lists(days_of_month, max_size=6), unit_prices, st.integers(0, 500))
def test_prorated_parts_of_a_period_add_up_to_the_whole_within_the_rounding_rule(
    period: Period, cut_days: list[int], unit_price: Decimal, quantity: int
) -> None:
    full = Money(unit_price, "AUD") * quantity
    parts = period.split_at(period.start + timedelta(days=d) for d in cut_days)

    prorated = [prorate(full, part.days, period.days) for part in parts]

    assert sum(p.days for p in parts) == period.days
    assert all(a.end + timedelta(days=1) == b.start for a, b in itertools.pairwise(parts))
    difference = abs(sum_money(prorated, "AUD").amount - full.amount)
    assert difference <= HALF_CENT * len(parts)
    assert all(p.is_rounded for p in prorated)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True), currencies)
def test_money_never_accepts_a_float(value: float, currency: str) -> None:
    with pytest.raises(TypeError):
        Money.of(value, currency)  # type: ignore[arg-type]


@FAST
@given(cents, cents, currencies, currencies)
def test_money_never_silently_mixes_currencies(a: Decimal, b: Decimal, c1: str, c2: str) -> None:
    x, y = Money(a, c1), Money(b, c2)
    if c1 == c2:
        assert (x + y).amount == a + b
    else:
        with pytest.raises(CurrencyMismatchError):
            x + y
        with pytest.raises(CurrencyMismatchError):
            x - y


@FAST
@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6), currencies)
def test_rounding_moves_an_amount_by_at_most_half_a_minor_unit(
    amount: Decimal, currency: str
) -> None:
    money = Money(amount, currency)
    rounded = money.rounded()
    unit = Decimal(1).scaleb(rounded.amount.as_tuple().exponent)  # type: ignore[arg-type]
    assert abs(rounded.amount - amount) <= unit / 2
    assert rounded.rounded() == rounded


PRODUCTS = {
    "LIC-M": Product(
        sku="LIC-M",
        name="Licence monthly",
        billing_term=BillingTerm.MONTHLY,
        kind=ProductKind.LICENCE,
        prices=(
            PriceVersion(date(2026, 1, 1), Money.of("20.625", "AUD"), Money.of("26.40", "AUD")),
        ),
    ),
    "LIC-Y": Product(
        sku="LIC-Y",
        name="Licence annual",
        billing_term=BillingTerm.ANNUAL,
        kind=ProductKind.LICENCE,
        prices=(PriceVersion(date(2025, 1, 1), Money.of("239.99", "AUD"), Money.of("300", "AUD")),),
    ),
}

changes_in_november = st.lists(
    st.builds(
        QuantityChange,
        st.integers(0, 29).map(lambda d: NOV.start + timedelta(days=d)),
        st.integers(0, 300),
        st.integers(1, 5),
    ),
    max_size=8,
    unique_by=lambda c: (c.effective_from, c.sequence),
)


def subscription(sid: int, term: BillingTerm, changes: list[QuantityChange]) -> Subscription:
    return Subscription.create(
        id=sid,
        customer_id=sid % 3,
        sku="LIC-M" if term is BillingTerm.MONTHLY else "LIC-Y",
        billing_term=term,
        start=date(2026, 10, 17) if term is BillingTerm.MONTHLY else date(2025, 11, 12),
        quantity=7,
        changes=changes,
    )


@FAST
@given(
    changes_in_november,
    changes_in_november,
    st.lists(cents, max_size=4),
    st.lists(st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=3), max_size=5),
)
def test_an_invoice_total_is_the_sum_of_its_lines(
    monthly_changes: list[QuantityChange],
    annual_changes: list[QuantityChange],
    credits: list[Decimal],
    usage: list[Decimal],
) -> None:
    invoice = build_invoice(
        invoice_id=1,
        partner_id=1,
        program_id=1,
        period=NOV,
        currency="AUD",
        subscriptions=[
            subscription(1, BillingTerm.MONTHLY, monthly_changes),
            subscription(2, BillingTerm.ANNUAL, annual_changes),
        ],
        products=PRODUCTS,
        usage=[
            UsageRecord(1, "AZ", NOV.start, q, Money.of("0.0173", "AUD"), Money.of("0.02", "AUD"))
            for q in usage
        ],
        adjustments=[Adjustment(2, NOV.end, Money(c, "AUD"), "credit") for c in credits],
    )

    assert all(line.amount.is_rounded for line in invoice.lines)
    assert invoice.total.amount == sum((line.amount.amount for line in invoice.lines), Decimal(0))
    assert Decimal(invoice.issued_event().total) == invoice.total.amount
    monthly_days = [
        ln.period.days for ln in invoice.lines if ln.billing_term is BillingTerm.MONTHLY
    ]
    assert sum(monthly_days) == NOV.days  # started in October: each day billed once


@FAST
@given(changes_in_november, st.sampled_from(list(BillingTerm)), st.randoms(use_true_random=False))
def test_a_quantity_history_replays_to_the_same_invoice_in_any_order(
    changes: list[QuantityChange], term: BillingTerm, rnd: object
) -> None:
    shuffled = list(changes)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]

    def bill(history: list[QuantityChange]) -> object:
        inv = build_invoice(
            invoice_id=1,
            partner_id=1,
            program_id=1,
            period=NOV,
            currency="AUD",
            subscriptions=[subscription(1, term, history)],
            products=PRODUCTS,
        )
        return inv.issued_event().payload()

    assert bill(changes) == bill(shuffled)


@FAST
@given(
    st.lists(st.integers(0, 29), max_size=6, unique=True),
    st.integers(0, 300),
    st.randoms(use_true_random=False),
)
def test_changes_recorded_one_by_one_in_any_order_bill_the_same(
    days: list[int], quantity: int, rnd: object
) -> None:
    entries = [(NOV.start + timedelta(days=d), (quantity + d) % 17) for d in days]
    shuffled = list(entries)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]

    def bill(order: list[tuple[date, int]]) -> object:
        sub = subscription(1, BillingTerm.MONTHLY, [])
        for day, qty in order:
            sub = sub.change_quantity(day, qty)
        return build_invoice(
            invoice_id=1,
            partner_id=1,
            program_id=1,
            period=NOV,
            currency="AUD",
            subscriptions=[sub],
            products=PRODUCTS,
        ).lines

    assert bill(entries) == bill(shuffled)
