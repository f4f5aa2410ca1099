"""What the billing run bills besides subscriptions (P3): usage records, one-time fees and
adjustments, each recorded for the month it falls in (`billing.run` invoices them).

Each use case writes in its caller's unit of work (`Database.run`, or a submitted order's:
`orders.submission` charges its one-time fees) and commits nothing itself. A month already
invoiced for the program is closed: recording into it is a CONFLICT, decided under the
partner's billing lock (`billing.locks`), which is held until the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.catalogue import PriceVersion, ProductKind
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.invoicing import LineKind
from prism_domain.money import parse_amount
from prism_graph.access import visible_customers
from prism_graph.billing.locks import lock_billing
from prism_graph.catalogue.rows import prices_of, to_domain
from prism_graph.database import UnitOfWork
from prism_platform.db import conflict_insert, utcnow
from prism_tables import billing as models
from prism_tables.catalogue import Product, Program
from prism_tables.customers import Customer

# What a product must be to be charged so, and what it is called when it is not.
_NOT_OF_KIND = {ProductKind.USAGE: "is not metered", ProductKind.ONE_TIME_FEE: "is not a fee"}


async def _billable_customer(
    session: AsyncSession, scope: Scope | None, customer_id: int
) -> Customer | None:
    customer: Customer | None = await session.scalar(
        select(Customer).where(Customer.id == customer_id, visible_customers(scope))
    )
    return customer


async def _invoiced(session: AsyncSession, owner_id: int, program_id: int, day: date) -> bool:
    await lock_billing(session, [owner_id])  # until the caller's change commits
    found = await session.scalar(
        select(models.Invoice.id).where(
            models.Invoice.partner_id == owner_id,
            models.Invoice.program_id == program_id,
            models.Invoice.period_start <= day,
            models.Invoice.period_end >= day,
        )
    )
    return found is not None


def _already_invoiced(day: date) -> FieldError:
    return FieldError(
        "day", ErrorCode.CONFLICT, f"The month of {day} is already invoiced for this program."
    )


@dataclass(frozen=True)
class _Priced:
    """A customer's product to charge on a day, with the price in force that day."""

    customer: Customer
    product: Product
    program: Program
    version: PriceVersion


async def _price_on(
    session: AsyncSession,
    scope: Scope | None,
    customer_id: int,
    product_id: int,
    kind: ProductKind,
    day: date,
    errors: list[FieldError],
) -> _Priced | list[FieldError]:
    """The customer the caller sees and its product of `kind`, priced on `day` in a month not
    invoiced yet; else the errors, after those of the input already in `errors`."""
    customer = await _billable_customer(session, scope, customer_id)
    product = await session.get(Product, product_id)
    if customer is None:
        errors.insert(0, FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer."))
    if product is None:
        errors.append(FieldError("productId", ErrorCode.NOT_FOUND, "No such product."))
    elif product.kind is not kind:
        errors.append(
            FieldError("productId", ErrorCode.INVALID, f"SKU {product.sku} {_NOT_OF_KIND[kind]}.")
        )
    if errors or customer is None or product is None:
        return errors
    program = await session.get(Program, product.program_id)
    assert program is not None
    prices = (await prices_of(session, [product.id]))[product.id]
    version = to_domain(product, prices, program.currency).price_on(day)
    if version is None:
        return [FieldError("day", ErrorCode.NOT_FOUND, f"SKU {product.sku} has no price on {day}.")]
    if await _invoiced(session, customer.owner_id, program.id, day):
        return [_already_invoiced(day)]
    return _Priced(customer, product, program, version)


def upsert_usage(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT (customer, product, day) DO UPDATE of a usage record, on
    either backend: a record is replaced, never doubled, whoever writes it first."""
    insert = conflict_insert(session.get_bind().dialect.name)
    stmt = insert(models.UsageRecord)
    return stmt.on_conflict_do_update(
        index_elements=["customer_id", "product_id", "day"],
        set_={
            "quantity": stmt.excluded.quantity,
            "unit_cost": stmt.excluded.unit_cost,
            "unit_price": stmt.excluded.unit_price,
            "recorded_at": stmt.excluded.recorded_at,
        },
    )


async def record_usage(
    uow: UnitOfWork,
    scope: Scope | None,
    *,
    customer_id: int,
    product_id: int,
    day: date,
    quantity: Decimal,
) -> models.UsageRecord | list[FieldError]:
    """P3: a customer's use of a USAGE product on a day, at the prices in force that day.
    Recording the same customer, product and day again replaces it until it is invoiced."""
    errors: list[FieldError] = []
    amount = parse_amount(format(quantity, "f"), field="quantity", label="Quantity", errors=errors)
    if errors or amount is None:
        return errors
    session = uow.session
    priced = await _price_on(
        session, scope, customer_id, product_id, ProductKind.USAGE, day, errors
    )
    if isinstance(priced, list):
        return priced
    customer, product, version = priced.customer, priced.product, priced.version
    # An upsert on (customer, product, day): two recordings at once both succeed and the
    # later one wins, as it would one after the other.
    await session.execute(
        upsert_usage(session),
        [
            {
                "customer_id": customer.id,
                "product_id": product.id,
                "day": day,
                "quantity": amount,
                "unit_cost": version.buy_price.amount,
                "unit_price": version.rrp.amount,
                "recorded_at": utcnow(),
            }
        ],
    )
    row = await session.scalar(
        select(models.UsageRecord)
        .where(
            models.UsageRecord.customer_id == customer.id,
            models.UsageRecord.product_id == product.id,
            models.UsageRecord.day == day,
        )
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def add_one_time_fee(
    uow: UnitOfWork,
    scope: Scope | None,
    *,
    customer_id: int,
    product_id: int,
    day: date,
    quantity: int,
) -> models.Charge | list[FieldError]:
    """P3: a ONE_TIME_FEE product charged once, at its prices on `day`."""
    errors: list[FieldError] = []
    if quantity < 1:
        errors.append(
            FieldError("quantity", ErrorCode.OUT_OF_RANGE, "Quantity must be at least 1.")
        )
    priced = await _price_on(
        uow.session, scope, customer_id, product_id, ProductKind.ONE_TIME_FEE, day, errors
    )
    if isinstance(priced, list):
        return priced
    product, version = priced.product, priced.version
    row = models.Charge(
        kind=LineKind.ONE_TIME_FEE,
        customer_id=priced.customer.id,
        program_id=priced.program.id,
        product_id=product.id,
        sku=product.sku,
        day=day,
        quantity=quantity,
        unit_cost=version.buy_price.amount,
        unit_price=version.rrp.amount,
        description=product.name,
    )
    uow.session.add(row)
    return row


async def add_adjustment(
    uow: UnitOfWork,
    scope: Scope | None,
    *,
    customer_id: int,
    program_id: int,
    day: date,
    amount: Decimal,
    description: str,
) -> models.Charge | list[FieldError]:
    """P3: a manual credit (negative) or charge (positive), a line kind of its own."""
    errors: list[FieldError] = []
    value = parse_amount(
        format(amount, "f"), field="amount", label="Amount", errors=errors, allow_negative=True
    )
    text = " ".join(description.split())
    if not text:
        errors.append(FieldError("description", ErrorCode.REQUIRED, "Say what it is for."))
    elif len(text) > 500:
        errors.append(FieldError("description", ErrorCode.TOO_LONG, "At most 500 characters."))
    session = uow.session
    customer = await _billable_customer(session, scope, customer_id)
    program = await session.get(Program, program_id)
    if customer is None:
        errors.insert(0, FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer."))
    if program is None:
        errors.append(FieldError("programId", ErrorCode.NOT_FOUND, "No such program."))
    if errors or customer is None or program is None or value is None:
        return errors
    if value == 0:
        return [FieldError("amount", ErrorCode.OUT_OF_RANGE, "An adjustment cannot be zero.")]
    if await _invoiced(session, customer.owner_id, program.id, day):
        return [_already_invoiced(day)]
    row = models.Charge(
        kind=LineKind.ADJUSTMENT,
        customer_id=customer.id,
        program_id=program.id,
        day=day,
        quantity=1,
        unit_cost=value,
        unit_price=value,
        description=text,
    )
    session.add(row)
    return row
