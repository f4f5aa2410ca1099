"""Order pricing and the submit rules (SPEC O3, O4, O7).

An order is priced on one of two bases (`PriceBasis`): the partner's contracted prices (the
`PriceListEntry.buy_price` this partner pays: what the partner's staff see, and what the
distributor charges) or the customer's prices (the entry's `rrp`: what a customer's contacts
see in their Order Book, the prices their invoices carry). Both follow the same rules.

Decisions (O3):
* Ongoing monthly payment: the MONTHLY licence lines, quantity x unit price, each line rounded.
* ANNUAL licence lines are not folded into the monthly figure (dividing by twelve would show a
  payment nobody is charged); they are shown as `annual_payment`, per year, and charged in
  full, up front, in the first payment: their first term starts on the start date, so there is
  nothing to prorate.
* One-time fees: ONE_TIME_FEE lines, charged once, in the first payment.
* USAGE lines (e.g. an Azure plan) cost nothing up front: they are billed from usage records.
* First payment = one-time fees + the first period: for each monthly line, its monthly amount
  prorated by days from the start date to the end of that calendar month, rounded per line
  (exactly what the first invoice will show), plus the annual lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from prism_domain.catalogue import BillingTerm, PriceListEntry, ProductKind
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.money import Money, sum_money
from prism_domain.periods import Period, prorate

ORDER_NUMBER_MAX_LENGTH = 50


class PriceBasis(StrEnum):
    """Whose prices an order is shown at."""

    PARTNER_COST = "PARTNER_COST"  # the partner's buy price
    CUSTOMER_PRICE = "CUSTOMER_PRICE"  # the RRP, what the customer pays

    def unit_price(self, product: PriceListEntry) -> Money:
        return product.buy_price if self is PriceBasis.PARTNER_COST else product.rrp


@dataclass(frozen=True, slots=True)
class OrderLine:
    product: PriceListEntry
    quantity: int


@dataclass(frozen=True, slots=True)
class PricedLine:
    """One product of an order. `amount` is per billing term (month, year) or once for fees."""

    sku: str
    name: str
    kind: ProductKind
    billing_term: BillingTerm
    quantity: int
    unit_price: Money
    amount: Money
    first_payment_amount: Money


@dataclass(frozen=True, slots=True)
class OrderQuote:
    """What the order screen and the addendum show (O3)."""

    start_date: date
    permitted_users: int
    lines: tuple[PricedLine, ...]
    first_period: Period
    ongoing_monthly_payment: Money
    annual_payment: Money
    one_time_fees: Money
    first_payment: Money


def price_order(
    *,
    lines: Sequence[OrderLine],
    start_date: date,
    permitted_users: int,
    currency: str,
    basis: PriceBasis = PriceBasis.PARTNER_COST,
) -> OrderQuote:
    """O3 at `basis`'s prices. Assumes lines passed `validate_order`; a foreign currency
    raises, never converts."""
    first_period = Period(start_date, Period.month_of(start_date).end)
    month_days = Period.month_of(start_date).days
    priced: list[PricedLine] = []
    for line in lines:
        product = line.product
        unit = basis.unit_price(product)
        full = (unit * line.quantity).rounded()
        if product.kind is ProductKind.USAGE:
            full = first = Money.zero(currency)
        elif product.kind is ProductKind.ONE_TIME_FEE or product.billing_term is BillingTerm.ANNUAL:
            first = full
        else:
            first = prorate(unit * line.quantity, first_period.days, month_days)
        priced.append(
            PricedLine(
                sku=product.sku,
                name=product.name,
                kind=product.kind,
                billing_term=product.billing_term,
                quantity=line.quantity,
                unit_price=unit,
                amount=full,
                first_payment_amount=first,
            )
        )
    licences = [p for p in priced if p.kind is ProductKind.LICENCE]
    return OrderQuote(
        start_date=start_date,
        permitted_users=permitted_users,
        lines=tuple(priced),
        first_period=first_period,
        ongoing_monthly_payment=sum_money(
            (p.amount for p in licences if p.billing_term is BillingTerm.MONTHLY), currency
        ),
        annual_payment=sum_money(
            (p.amount for p in licences if p.billing_term is BillingTerm.ANNUAL), currency
        ),
        one_time_fees=sum_money(
            (p.amount for p in priced if p.kind is ProductKind.ONE_TIME_FEE), currency
        ),
        first_payment=sum_money((p.first_payment_amount for p in priced), currency),
    )


def validate_order(
    *, lines: Sequence[OrderLine], permitted_users: object, currency: str
) -> list[FieldError]:
    """What a saved (draft) order must already satisfy; an empty draft is allowed (O2)."""
    errors: list[FieldError] = []
    if isinstance(permitted_users, bool) or not isinstance(permitted_users, int):
        errors.append(
            FieldError("permitted_users", ErrorCode.INVALID, "Permitted users must be a number.")
        )
    elif permitted_users < 1:
        errors.append(
            FieldError(
                "permitted_users", ErrorCode.OUT_OF_RANGE, "Permitted users must be at least 1."
            )
        )
    seen: set[str] = set()
    for index, line in enumerate(lines):
        at = f"lines[{index}]"
        product = line.product
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            errors.append(
                FieldError(f"{at}.quantity", ErrorCode.INVALID, "Quantity must be a whole number.")
            )
        elif line.quantity < 1:
            errors.append(
                FieldError(f"{at}.quantity", ErrorCode.OUT_OF_RANGE, "Quantity must be at least 1.")
            )
        if product.retired:
            errors.append(
                FieldError(
                    f"{at}.sku",
                    ErrorCode.RETIRED,
                    f"{product.sku} is retired: it cannot be ordered.",
                )
            )
        if product.currency != currency:
            errors.append(
                FieldError(
                    f"{at}.sku",
                    ErrorCode.CURRENCY_MISMATCH,
                    f"{product.sku} is priced in {product.currency}, the order in {currency}.",
                )
            )
        if product.sku.casefold() in seen:
            errors.append(
                FieldError(
                    f"{at}.sku",
                    ErrorCode.DUPLICATE,
                    f"{product.sku} is already on the order: change its quantity instead.",
                )
            )
        seen.add(product.sku.casefold())
    return errors


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """The order details section (O4)."""

    order_number: str | None
    order_number_not_required: bool
    msa_acknowledged: bool
    authorised_acknowledged: bool


def validate_submission(
    details: OrderDetails,
    *,
    lines: Sequence[OrderLine],
    permitted_users: object,
    currency: str,
    start_date: date | None,
    today: date,
) -> list[FieldError]:
    """O4: every missing or wrong item is its own field error; empty means it may be submitted.

    The start date may not be in the past: subscriptions are never created backdated (a
    back-dated start would bill days already invoiced to nobody).
    """
    errors = validate_order(lines=lines, permitted_users=permitted_users, currency=currency)
    if not lines:
        errors.append(FieldError("lines", ErrorCode.REQUIRED, "Add at least one product."))
    number = (details.order_number or "").strip()
    if not number and not details.order_number_not_required:
        errors.append(
            FieldError(
                "order_number",
                ErrorCode.REQUIRED,
                'A purchase order number is required unless "order number not required" is set.',
            )
        )
    elif len(number) > ORDER_NUMBER_MAX_LENGTH:
        errors.append(
            FieldError(
                "order_number",
                ErrorCode.TOO_LONG,
                f"The order number must be at most {ORDER_NUMBER_MAX_LENGTH} characters.",
            )
        )
    if not details.msa_acknowledged:
        errors.append(
            FieldError(
                "msa_acknowledged",
                ErrorCode.REQUIRED,
                "Confirm that the order is governed by the Master Service Provider Agreement.",
            )
        )
    if not details.authorised_acknowledged:
        errors.append(
            FieldError(
                "authorised_acknowledged",
                ErrorCode.REQUIRED,
                "Confirm that you are authorised to place this order.",
            )
        )
    if start_date is None:
        errors.append(FieldError("start_date", ErrorCode.REQUIRED, "A start date is required."))
    elif start_date < today:
        errors.append(
            FieldError(
                "start_date", ErrorCode.OUT_OF_RANGE, "The start date cannot be in the past."
            )
        )
    return errors
