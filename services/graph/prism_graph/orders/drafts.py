"""Draft orders (O2): create one for a prospect or a customer, and save changes to it.

A draft is checked as far as a draft must be (known products, no SKU twice, prices in force,
the domain's order rules); a submit (`orders.submission`) applies the same changes and checks
the rest. Each use case writes in its caller's unit of work and commits nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.orders import validate_order
from prism_domain.text import clean_email, clean_name
from prism_graph.access import visible_customers
from prism_graph.database import UnitOfWork
from prism_graph.orders.loading import not_found, order_lines, partner_today, visible_order
from prism_graph.orders.pricing import api_field, price_stored
from prism_tables.catalogue import Product
from prism_tables.customers import Customer
from prism_tables.orders import Order, OrderLine, OrderStatus


@dataclass(frozen=True)
class NewLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class OrderChanges:
    """What a create, save or submit sets; None leaves a field as it is."""

    permitted_users: int | None = None
    start_date: date | None = None
    lines: Sequence[NewLine] | None = None
    order_number: str | None = None
    order_number_not_required: bool | None = None
    msa_acknowledged: bool | None = None
    authorised_acknowledged: bool | None = None
    implementation_lead_name: str | None = None
    implementation_lead_email: str | None = None


async def apply_changes(
    session: AsyncSession, order: Order, changes: OrderChanges
) -> tuple[list[OrderLine], list[FieldError]]:
    """Write `changes` to a draft; the errors a draft may not have (a submit checks more)."""
    errors: list[FieldError] = []
    if changes.permitted_users is not None:
        order.permitted_users = changes.permitted_users
    if changes.start_date is not None:
        order.start_date = changes.start_date
    if changes.order_number is not None:
        order.order_number = changes.order_number.strip()[:50] or None
        if len(changes.order_number.strip()) > 50:
            errors.append(
                FieldError(
                    "orderNumber",
                    ErrorCode.TOO_LONG,
                    "The order number must be at most 50 characters.",
                )
            )
    if changes.order_number_not_required is not None:
        order.order_number_not_required = changes.order_number_not_required
    if changes.msa_acknowledged is not None:
        order.msa_acknowledged = changes.msa_acknowledged
    if changes.authorised_acknowledged is not None:
        order.authorised_acknowledged = changes.authorised_acknowledged
    if changes.implementation_lead_name is not None:
        name = clean_name(
            changes.implementation_lead_name,
            field="implementationLeadName",
            label="The implementation lead's name",
            max_length=200,
            errors=errors,
        )
        order.implementation_lead_name = name or None
    if changes.implementation_lead_email is not None:
        text = changes.implementation_lead_email.strip()
        email = clean_email(text, field="implementationLeadEmail", errors=errors) if text else ""
        order.implementation_lead_email = email or None
    if changes.lines is not None:
        await _replace_lines(session, order, changes.lines, errors)
    lines = await order_lines(session, order.id)
    if errors:
        return lines, errors
    priced = await price_stored(session, order, lines, await partner_today(session, order))
    errors += priced.errors
    if (
        changes.lines is not None
        and changes.lines
        and len({n.product_id for n in changes.lines}) < len(changes.lines)
    ):
        errors += _duplicates(changes.lines)
    errors += [
        api_field(e)
        for e in validate_order(
            lines=priced.lines,
            permitted_users=order.permitted_users if order.permitted_users is not None else 1,
            currency=priced.currency or "XXX",
        )
    ]
    return lines, errors


async def _replace_lines(
    session: AsyncSession, order: Order, lines: Sequence[NewLine], errors: list[FieldError]
) -> None:
    """The order's lines become `lines`, unless a product is unknown (then an error each)."""
    await session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    known = set(
        await session.scalars(
            select(Product.id).where(Product.id.in_({n.product_id for n in lines}))
        )
    )
    for index, new in enumerate(lines):
        if new.product_id not in known:
            errors.append(
                FieldError(f"lines[{index}].productId", ErrorCode.NOT_FOUND, "No such product.")
            )
    if errors:
        return
    seen: set[int] = set()
    for index, new in enumerate(lines):
        if new.product_id in seen:
            continue  # validate_order reports the duplicate SKU
        seen.add(new.product_id)
        session.add(
            OrderLine(
                order_id=order.id,
                position=index,
                product_id=new.product_id,
                quantity=new.quantity,
            )
        )
    await session.flush()


def _duplicates(lines: Sequence[NewLine]) -> list[FieldError]:
    seen: set[int] = set()
    errors = []
    for index, line in enumerate(lines):
        if line.product_id in seen:
            errors.append(
                FieldError(
                    f"lines[{index}].productId",
                    ErrorCode.DUPLICATE,
                    "This product is already on the order: change its quantity instead.",
                )
            )
        seen.add(line.product_id)
    return errors


async def create_order(
    uow: UnitOfWork, scope: Scope | None, customer_id: int, changes: OrderChanges
) -> Order | list[FieldError]:
    """O2: an order for a prospect or a customer, saved as a draft."""
    session = uow.session
    customer = await session.scalar(
        select(Customer.id).where(Customer.id == customer_id, visible_customers(scope))
    )
    if customer is None:
        return [FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer.")]
    order = Order(customer_id=customer_id, status=OrderStatus.DRAFT)
    session.add(order)
    await session.flush()
    _, errors = await apply_changes(session, order, changes)
    return errors or order


async def save_order(
    uow: UnitOfWork, scope: Scope | None, order_id: int, changes: OrderChanges
) -> Order | list[FieldError]:
    """O2: change a draft; the customer's status does not change."""
    order = await visible_order(uow.session, scope, order_id, lock=True)
    if order is None:
        return not_found()
    if order.status is not OrderStatus.DRAFT:
        return [
            FieldError(
                "id", ErrorCode.CONFLICT, "This order is submitted: it can no longer change."
            )
        ]
    _, errors = await apply_changes(uow.session, order, changes)
    return errors or order


async def discard_order(
    uow: UnitOfWork, scope: Scope | None, order_id: int
) -> int | list[FieldError]:
    """Throw a draft away with its lines; the customer is left as it is. A submitted order
    has subscriptions, an addendum and mails behind it: it cannot be discarded."""
    order = await visible_order(uow.session, scope, order_id, lock=True)
    if order is None:
        return not_found()
    if order.status is not OrderStatus.DRAFT:
        return [
            FieldError(
                "id", ErrorCode.CONFLICT, "This order is submitted: it can no longer be discarded."
            )
        ]
    await uow.session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    await uow.session.delete(order)
    await uow.session.flush()
    return order_id
