"""The monthly billing run (SPEC P3, feeding S5): one invoice per partner, program and month.

The caller passes one partner's and one program's data; this module turns it into lines.

Decisions:
* An invoice bills what the **partner owes**: `amount` is at the unit **cost** (the buy
  price); `unit_price` (RRP) rides along for the PSA (S3, S5), it is not charged here.
* The billing period is a calendar month, billed in arrears.
* MONTHLY licence subscriptions: **one line per constant-quantity segment** of the month, so
  each line's period start is the effective date the PSA needs (S5). Amount = quantity x unit
  cost x segment days / days in the month, rounded once. In the month a subscription drops to
  zero (a reduction or a cancellation, even on the 1st) the zero-quantity days are a line of
  amount 0.00 for the same reason; the months after have no line for it.
* Prices are locked per term: a monthly subscription is billed for the whole month at the
  price in force on its first billed day of the month; a price change mid-month applies from
  the next month. An annual one at the price in force on its term start, for the whole term.
* ANNUAL licence subscriptions are billed up front: in the month a term starts, one line for
  the whole term (period = the term). A quantity change inside a term is a line of its own in
  the month it takes effect: quantity = the change (negative for a decrease or cancellation),
  prorated over the rest of the term by days.
* USAGE subscriptions produce no subscription lines: usage records are summed into one line
  per customer, SKU and rates. ONE_TIME_FEE products come from one-time charges only.
* Manual credits and adjustments are their own kind (`ADJUSTMENT`, quantity 1, signed).
* The total is the sum of the rounded line amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from prism_domain.catalogue import BillingTerm, Product, ProductKind
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.events import DomainEvent, JsonDict, register
from prism_domain.money import CurrencyMismatchError, Money, sum_money
from prism_domain.periods import Period, add_years, prorate
from prism_domain.subscriptions import EntityId, Subscription


class LineKind(StrEnum):
    SUBSCRIPTION = "SUBSCRIPTION"
    USAGE = "USAGE"
    ONE_TIME_FEE = "ONE_TIME_FEE"
    ADJUSTMENT = "ADJUSTMENT"


_KIND_ORDER = {kind: i for i, kind in enumerate(LineKind)}


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Metered consumption of one customer, product and day (e.g. Azure)."""

    customer_id: EntityId
    sku: str
    day: date
    quantity: Decimal
    unit_cost: Money
    unit_price: Money
    subscription_id: EntityId | None = None


@dataclass(frozen=True, slots=True)
class OneTimeCharge:
    """A one-time fee (e.g. from a submitted order), billed in the month of `day`."""

    customer_id: EntityId
    sku: str
    day: date
    quantity: int
    unit_cost: Money
    unit_price: Money
    subscription_id: EntityId | None = None


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A manual credit (negative) or charge (positive), billed in the month of `day`."""

    customer_id: EntityId
    day: date
    amount: Money
    description: str
    subscription_id: EntityId | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    customer_id: EntityId
    subscription_id: EntityId | None
    sku: str | None
    kind: LineKind
    billing_term: BillingTerm | None
    period: Period
    quantity: Decimal
    unit_cost: Money
    unit_price: Money
    amount: Money
    description: str = ""

    def sort_key(self) -> tuple[Any, ...]:
        return (
            str(self.customer_id),
            _KIND_ORDER[self.kind],
            str(self.subscription_id or ""),
            self.sku or "",
            self.period.start,
            self.period.end,
            self.quantity,
            self.amount.amount,
            self.unit_cost.amount,
            self.unit_price.amount,
            self.description,
        )

    def to_json(self) -> JsonDict:
        """JSON primitives for the outbox and the PSA sync; Decimals travel as strings."""
        return {
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "sku": self.sku,
            "kind": self.kind.value,
            "billing_term": self.billing_term.value if self.billing_term else None,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "quantity": format(self.quantity, "f"),
            "unit_cost": self.unit_cost.to_json(),
            "unit_price": self.unit_price.to_json(),
            "amount": self.amount.to_json(),
            "description": self.description,
        }


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceIssued(DomainEvent):
    """P3, S5: what the PSA sync needs to bring each contract to the invoice's quantities."""

    type = "invoice.issued"
    version = 1
    aggregate_type = "invoice"

    invoice_id: EntityId
    partner_id: EntityId
    program_id: EntityId
    currency: str
    period_start: str
    period_end: str
    total: str
    lines: tuple[JsonDict, ...]

    def payload(self) -> JsonDict:
        payload = DomainEvent.payload(self)
        payload["lines"] = [dict(line) for line in self.lines]
        return payload


@dataclass(frozen=True, slots=True)
class Invoice:
    id: EntityId
    partner_id: EntityId
    program_id: EntityId
    period: Period
    currency: str
    lines: tuple[InvoiceLine, ...]

    @property
    def key(self) -> str:
        """One invoice per partner, program and month: a re-run must find this key taken."""
        return f"{self.partner_id}:{self.program_id}:{self.period.start:%Y-%m}"

    @property
    def total(self) -> Money:
        return sum_money((line.amount for line in self.lines), self.currency)

    def issued_event(self) -> InvoiceIssued:
        return InvoiceIssued(
            aggregate_id=str(self.id),
            invoice_id=self.id,
            partner_id=self.partner_id,
            program_id=self.program_id,
            currency=self.currency,
            period_start=self.period.start.isoformat(),
            period_end=self.period.end.isoformat(),
            total=self.total.to_json(),
            lines=tuple(line.to_json() for line in self.lines),
        )


def build_invoice(
    *,
    invoice_id: EntityId,
    partner_id: EntityId,
    program_id: EntityId,
    period: Period,
    currency: str,
    subscriptions: Iterable[Subscription],
    products: Mapping[str, Product],
    usage: Iterable[UsageRecord] = (),
    one_time: Iterable[OneTimeCharge] = (),
    adjustments: Iterable[Adjustment] = (),
) -> Invoice:
    """P3. Raises `DomainValidationError` (NOT_FOUND) when a subscription has no price, and
    `CurrencyMismatchError` when any input is not in `currency`; records dated outside the
    period are not this invoice's and are left out."""
    if period != Period.month_of(period.start):
        raise ValueError(f"a billing period is a calendar month, not {period}")
    errors: list[FieldError] = []
    lines: list[InvoiceLine] = []
    for sub in subscriptions:
        product = products.get(sub.sku)
        if product is None:
            errors.append(_no_price(sub, f"SKU {sub.sku} is not on the price list."))
            continue
        if product.kind is not ProductKind.LICENCE:
            continue
        if sub.billing_term is BillingTerm.ANNUAL:
            lines.extend(_annual_lines(sub, product, period, currency, errors))
        else:
            lines.extend(_monthly_lines(sub, product, period, currency, errors))
    if errors:
        raise DomainValidationError(errors)
    lines.extend(_usage_lines(usage, products, period, currency))
    for charge in one_time:
        if charge.day in period:
            _check_currency(currency, charge.unit_cost, charge.unit_price)
            product = products.get(charge.sku)
            lines.append(
                InvoiceLine(
                    customer_id=charge.customer_id,
                    subscription_id=charge.subscription_id,
                    sku=charge.sku,
                    kind=LineKind.ONE_TIME_FEE,
                    billing_term=product.billing_term if product else None,
                    period=Period(charge.day, charge.day),
                    quantity=Decimal(charge.quantity),
                    unit_cost=charge.unit_cost,
                    unit_price=charge.unit_price,
                    amount=(charge.unit_cost * charge.quantity).rounded(),
                    description=product.name if product else "",
                )
            )
    for adj in adjustments:
        if adj.day in period:
            _check_currency(currency, adj.amount)
            amount = adj.amount.rounded()
            lines.append(
                InvoiceLine(
                    customer_id=adj.customer_id,
                    subscription_id=adj.subscription_id,
                    sku=adj.sku,
                    kind=LineKind.ADJUSTMENT,
                    billing_term=None,
                    period=Period(adj.day, adj.day),
                    quantity=Decimal(1),
                    unit_cost=amount,
                    unit_price=amount,
                    amount=amount,
                    description=adj.description,
                )
            )
    lines.sort(key=InvoiceLine.sort_key)
    return Invoice(invoice_id, partner_id, program_id, period, currency, tuple(lines))


def _no_price(sub: Subscription, message: str) -> FieldError:
    return FieldError(f"subscriptions[{sub.id}]", ErrorCode.NOT_FOUND, message)


def _check_currency(currency: str, *values: Money) -> None:
    for value in values:
        if value.currency != currency:
            raise CurrencyMismatchError(f"{value.currency} on an invoice in {currency}")


def _monthly_lines(
    sub: Subscription, product: Product, period: Period, currency: str, errors: list[FieldError]
) -> list[InvoiceLine]:
    segments = sub.segments(period)
    if not segments:
        return []
    first_day = segments[0].period.start
    price = product.price_on(first_day)
    if price is None:
        errors.append(_no_price(sub, f"SKU {sub.sku} has no price on {first_day}."))
        return []
    _check_currency(currency, price.buy_price, price.rrp)
    return [
        InvoiceLine(
            customer_id=sub.customer_id,
            subscription_id=sub.id,
            sku=sub.sku,
            kind=LineKind.SUBSCRIPTION,
            billing_term=BillingTerm.MONTHLY,
            period=seg.period,
            quantity=Decimal(seg.quantity),
            unit_cost=price.buy_price,
            unit_price=price.rrp,
            amount=prorate(price.buy_price * seg.quantity, seg.period.days, period.days),
            description=product.name,
        )
        for seg in segments
    ]


def _annual_lines(
    sub: Subscription, product: Product, period: Period, currency: str, errors: list[FieldError]
) -> list[InvoiceLine]:
    lines: list[InvoiceLine] = []

    def line(term: Period, billed: Period, quantity: int) -> None:
        # The whole term when `billed` is the term; the rest of it for a mid-term change.
        price = product.price_on(term.start)
        if price is None:
            errors.append(_no_price(sub, f"SKU {sub.sku} has no price on {term.start}."))
            return
        _check_currency(currency, price.buy_price, price.rrp)
        lines.append(
            InvoiceLine(
                customer_id=sub.customer_id,
                subscription_id=sub.id,
                sku=sub.sku,
                kind=LineKind.SUBSCRIPTION,
                billing_term=BillingTerm.ANNUAL,
                period=billed,
                quantity=Decimal(quantity),
                unit_cost=price.buy_price,
                unit_price=price.rrp,
                amount=prorate(price.buy_price * quantity, billed.days, term.days),
                description=product.name,
            )
        )

    years = 0
    while (term_start := add_years(sub.start, years)) <= period.end:
        if term_start in period and sub.is_active_on(term_start):
            term = sub.term_containing(term_start)
            quantity = sub.quantity_on(term_start)
            if quantity:
                line(term, term, quantity)
        years += 1
    change_days = {c.effective_from for c in sub.history}
    if sub.cancelled_from is not None:
        change_days.add(sub.cancelled_from)
    for day in sorted(d for d in change_days if d in period):
        term = sub.term_containing(day)
        if day == term.start:
            continue
        delta = sub.quantity_on(day) - sub.quantity_on(day - timedelta(days=1))
        if delta:
            line(term, Period(day, term.end), delta)
    return lines


def _usage_lines(
    records: Iterable[UsageRecord], products: Mapping[str, Product], period: Period, currency: str
) -> list[InvoiceLine]:
    totals: dict[tuple[str, str, str, Money, Money], list[UsageRecord]] = {}
    for record in records:
        if record.day not in period:
            continue
        _check_currency(currency, record.unit_cost, record.unit_price)
        key = (
            str(record.customer_id),
            str(record.subscription_id or ""),
            record.sku,
            record.unit_cost,
            record.unit_price,
        )
        totals.setdefault(key, []).append(record)
    lines: list[InvoiceLine] = []
    for group in totals.values():
        first = group[0]
        quantity = sum((r.quantity for r in group), Decimal(0))
        product = products.get(first.sku)
        lines.append(
            InvoiceLine(
                customer_id=first.customer_id,
                subscription_id=first.subscription_id,
                sku=first.sku,
                kind=LineKind.USAGE,
                billing_term=product.billing_term if product else None,
                period=period,
                quantity=quantity,
                unit_cost=first.unit_cost,
                unit_price=first.unit_price,
                amount=(first.unit_cost * quantity).rounded(),
                description=product.name if product else "",
            )
        )
    return lines
