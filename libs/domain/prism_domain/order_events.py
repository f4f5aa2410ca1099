"""Events of orders (SPEC O2-O7): what the rest of Prism learns when an order is submitted."""

from __future__ import annotations

from dataclasses import dataclass

from prism_domain.events import DomainEvent, register


@register
@dataclass(frozen=True, kw_only=True)
class OrderSubmitted(DomainEvent):
    """O2, O7: a prospect's or customer's order was submitted (amounts as decimal strings)."""

    type = "order.submitted"
    version = 1
    aggregate_type = "order"

    customer_id: int
    partner_id: int | None
    order_number: str | None
    start_date: str
    currency: str
    subscription_ids: list[int]
    ongoing_monthly_payment: str
    one_time_fees: str
    first_payment: str
