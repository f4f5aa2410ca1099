"""Use cases on subscriptions (O7, P2): the domain decides, this module loads and stores.

Each use case writes in its caller's unit of work (`Database.run`, or a submitted order's:
`orders.submission`) and commits nothing itself. Every write re-reads the subscription inside
that unit of work, filtered by the caller's scope, so a foreign id is NOT_FOUND; a change dated
inside a month already invoiced is refused (CONFLICT): the invoice is final, and the next
month's invoice carries the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.subscriptions import QuantityChange
from prism_domain.subscriptions import Subscription as DomainSubscription
from prism_graph.access import visible_customers, visible_subscriptions
from prism_graph.billing.locks import lock_billing
from prism_graph.database import UnitOfWork
from prism_tables.billing import Invoice
from prism_tables.catalogue import Product
from prism_tables.customers import Customer
from prism_tables.subscriptions import Subscription, SubscriptionQuantity


def to_domain(row: Subscription, history: Sequence[SubscriptionQuantity]) -> DomainSubscription:
    return DomainSubscription(
        id=row.id,
        customer_id=row.customer_id,
        sku=row.sku,
        billing_term=row.billing_term,
        start=row.start_date,
        history=tuple(QuantityChange(h.effective_from, h.quantity, h.sequence) for h in history),
        cancelled_from=row.cancelled_from,
    )


def _not_found(field: str = "id") -> list[FieldError]:
    return [FieldError(field, ErrorCode.NOT_FOUND, "No such subscription.")]


async def _invoiced_through(session: AsyncSession, partner_id: int, program_id: int) -> date | None:
    """The last day already invoiced to this partner for this program, if any."""
    ends = await session.scalars(
        select(Invoice.period_end)
        .where(Invoice.partner_id == partner_id, Invoice.program_id == program_id)
        .order_by(Invoice.period_end.desc())
        .limit(1)
    )
    return ends.first()


async def _check_not_invoiced(
    session: AsyncSession, customer: Customer, product: Product, day: date, field: str
) -> list[FieldError]:
    await lock_billing(session, [customer.owner_id])  # until this change commits
    through = await _invoiced_through(session, customer.owner_id, product.program_id)
    if through is not None and day <= through:
        return [
            FieldError(
                field,
                ErrorCode.CONFLICT,
                f"{day} is in a month already invoiced (through {through}); "
                "date the change after it.",
            )
        ]
    return []


@dataclass(frozen=True)
class NewSubscription:
    customer_id: int
    product_id: int
    quantity: int
    start_date: date
    billing_term: BillingTerm | None


async def create_subscription(
    uow: UnitOfWork, scope: Scope | None, new: NewSubscription
) -> Subscription | list[FieldError]:
    """O7: a customer holds a product from a start date, on a billing term."""
    session = uow.session
    customer = await session.scalar(
        select(Customer).where(Customer.id == new.customer_id, visible_customers(scope))
    )
    product = await session.get(Product, new.product_id)
    errors: list[FieldError] = []
    if customer is None:
        errors.append(FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer."))
    if product is None:
        errors.append(FieldError("productId", ErrorCode.NOT_FOUND, "No such product."))
    elif product.retired:
        errors.append(FieldError("productId", ErrorCode.RETIRED, f"SKU {product.sku} is retired."))
    elif product.kind is ProductKind.ONE_TIME_FEE:
        errors.append(
            FieldError(
                "productId",
                ErrorCode.INVALID,
                f"SKU {product.sku} is a one-time fee, not a subscription.",
            )
        )
    if errors or customer is None or product is None:
        return errors
    term = new.billing_term or product.billing_term
    try:
        DomainSubscription.create(
            id=0,
            customer_id=customer.id,
            sku=product.sku,
            billing_term=term,
            start=new.start_date,
            quantity=new.quantity,
        )
    except DomainValidationError as exc:
        return exc.errors
    conflict = await _check_not_invoiced(session, customer, product, new.start_date, "startDate")
    if conflict:
        return conflict
    row = Subscription(
        customer_id=customer.id,
        product_id=product.id,
        sku=product.sku,
        billing_term=term,
        start_date=new.start_date,
        quantity=new.quantity,
    )
    session.add(row)
    await session.flush()
    session.add(
        SubscriptionQuantity(
            subscription_id=row.id,
            effective_from=new.start_date,
            quantity=new.quantity,
            sequence=0,
        )
    )
    return row


async def _load(
    session: AsyncSession, scope: Scope | None, subscription_id: int
) -> tuple[Subscription, Customer, Product, list[SubscriptionQuantity]] | None:
    # The row lock serialises writers of one subscription (PostgreSQL; SQLite's write lock
    # already does): a second change waits, then reads the first one's history row and
    # numbers itself after it rather than colliding on (effective_from, sequence). It is
    # FOR NO KEY UPDATE, so that it never conflicts with a billing run's foreign key checks
    # (see billing.locks).
    row = await session.scalar(
        select(Subscription)
        .where(Subscription.id == subscription_id, visible_subscriptions(scope))
        .with_for_update(of=Subscription, key_share=True)
    )
    if row is None:
        return None
    customer = await session.get(Customer, row.customer_id)
    product = await session.get(Product, row.product_id)
    assert customer is not None and product is not None  # foreign keys guarantee them
    history = list(
        await session.scalars(
            select(SubscriptionQuantity)
            .where(SubscriptionQuantity.subscription_id == row.id)
            .order_by(SubscriptionQuantity.effective_from, SubscriptionQuantity.sequence)
        )
    )
    return row, customer, product, history


async def _change(
    session: AsyncSession,
    scope: Scope | None,
    subscription_id: int,
    change: Callable[[DomainSubscription], DomainSubscription],
    *,
    day: date,
    field: str,
) -> tuple[Subscription, list[SubscriptionQuantity], DomainSubscription] | list[FieldError]:
    """The subscription the caller sees, its history and `change` (from `day`, the input
    `field`) applied by the domain, in a month not invoiced yet; else the errors."""
    loaded = await _load(session, scope, subscription_id)
    if loaded is None:
        return _not_found()
    row, customer, product, history = loaded
    try:
        changed = change(to_domain(row, history))
    except DomainValidationError as exc:
        return [_field(e) for e in exc.errors]
    conflict = await _check_not_invoiced(session, customer, product, day, field)
    return conflict or (row, history, changed)


async def change_quantity(
    uow: UnitOfWork,
    scope: Scope | None,
    subscription_id: int,
    *,
    quantity: int,
    effective_from: date,
) -> Subscription | list[FieldError]:
    """P2: a new quantity from a date; the history keeps every change."""
    checked = await _change(
        uow.session,
        scope,
        subscription_id,
        lambda subscription: subscription.change_quantity(effective_from, quantity),
        day=effective_from,
        field="effectiveFrom",
    )
    if isinstance(checked, list):
        return checked
    row, history, changed = checked
    added = next(
        c
        for c in changed.history
        if (c.effective_from, c.sequence) not in {(h.effective_from, h.sequence) for h in history}
    )
    uow.session.add(
        SubscriptionQuantity(
            subscription_id=row.id,
            effective_from=added.effective_from,
            quantity=added.quantity,
            sequence=added.sequence,
        )
    )
    row.quantity = changed.history[-1].quantity  # the latest by date, then sequence
    return row


async def cancel(
    uow: UnitOfWork, scope: Scope | None, subscription_id: int, *, cancelled_from: date
) -> Subscription | list[FieldError]:
    """O7: no service from `cancelled_from` on; the history is frozen from that day."""
    checked = await _change(
        uow.session,
        scope,
        subscription_id,
        lambda subscription: subscription.cancel(cancelled_from),
        day=cancelled_from,
        field="cancelledFrom",
    )
    if isinstance(checked, list):
        return checked
    row, _, _ = checked
    row.cancelled_from = cancelled_from
    return row


_FIELDS = {"effective_from": "effectiveFrom", "cancelled_from": "cancelledFrom"}


def _field(error: FieldError) -> FieldError:
    return FieldError(_FIELDS.get(error.field or "", error.field), error.code, error.message)
