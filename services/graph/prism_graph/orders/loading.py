"""What the order use cases read first: the order the caller may see (locked for a change),
its lines, and today for the partner ordering."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.errors import ErrorCode, FieldError
from prism_graph.access import visible_customers
from prism_graph.organisations import zones
from prism_tables.customers import Customer
from prism_tables.orders import Order, OrderLine


def not_found(field: str = "id") -> list[FieldError]:
    return [FieldError(field, ErrorCode.NOT_FOUND, "No such order.")]


async def visible_order(
    session: AsyncSession, scope: Scope | None, order_id: int, *, lock: bool = False
) -> Order | None:
    stmt = select(Order).where(
        Order.id == order_id,
        Order.customer_id.in_(select(Customer.id).where(visible_customers(scope))),
    )
    if lock:
        stmt = stmt.with_for_update(of=Order)
    row: Order | None = await session.scalar(stmt)
    return row


async def order_lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
    )
    return list(rows)


async def partner_today(session: AsyncSession, order: Order) -> date:
    """Today in the zone of the partner ordering (the customer's owner: a partner, or the
    distributor for its direct customers): the earliest start date it may choose."""
    owner = await session.scalar(select(Customer.owner_id).where(Customer.id == order.customer_id))
    return await zones.today_for(session.scalar, owner)
