from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from prism_graph.catalogue.types import BillingTerm, Product
from prism_graph.common.errors import UserError, errors_field
from prism_graph.common.ids import decode_id
from prism_graph.context import Info
from prism_tables import subscriptions as models

NODE_NAME = "CustomerSubscription"


@strawberry.type(
    description="One entry of a subscription's quantity history: a quantity from a day on. "
    "Entries are only ever added, never rewritten."
)
class QuantityChange:
    effective_from: date = strawberry.field(description="The first day of the new quantity.")
    quantity: int = strawberry.field(
        description="The licences held from that day on (0 when reduced to none)."
    )
    sequence: int = strawberry.field(
        description="The order of the changes recorded for the same day: the highest wins."
    )
    recorded_at: datetime = strawberry.field(description="When the change was recorded (UTC).")


# Named CustomerSubscription in the schema: a type named "Subscription" would be taken for
# the subscription root by tools reading schema.graphql.
@strawberry.type(
    name=NODE_NAME,
    description="A product a customer holds from its start date, with its quantity history; "
    "the monthly billing run bills it to the customer's partner.",
)
class Subscription(relay.Node):
    id: relay.NodeID[int]
    sku: str = strawberry.field(description="The product's SKU.")
    billing_term: BillingTerm = strawberry.field(  # type: ignore[valid-type]
        description="How it is billed: monthly in arrears, or annually up front for a term "
        "of a year from the start date."
    )
    start_date: date = strawberry.field(description="The first day in service.")
    quantity: int = strawberry.field(
        description="The latest recorded quantity (in force from its change's date on)."
    )
    cancelled_from: date | None = strawberry.field(
        description="The first day no longer in service, when cancelled."
    )
    customer_id: strawberry.Private[int]
    product_id: strawberry.Private[int]

    @strawberry.field(description="The product held.")
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.product_by_id.load(self.product_id)
        return Product.from_model(row) if row else None

    @strawberry.field(description="Every quantity change, oldest first.")
    async def quantity_history(self, info: Info) -> list[QuantityChange]:
        rows = await info.context.loaders.quantities_by_subscription.load(self.id)
        return [
            QuantityChange(
                effective_from=r.effective_from,
                quantity=r.quantity,
                sequence=r.sequence,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]

    @strawberry.field(
        description="The quantity in service on a day: 0 before the start and from the "
        "cancellation on."
    )
    async def quantity_on(
        self,
        info: Info,
        day: Annotated[date, strawberry.argument(description="The day to ask about.")],
    ) -> int:
        from prism_graph.subscriptions.service import to_domain

        rows = await info.context.loaders.quantities_by_subscription.load(self.id)
        row = models.Subscription(
            id=self.id,
            customer_id=self.customer_id,
            sku=self.sku,
            billing_term=self.billing_term,
            start_date=self.start_date,
            cancelled_from=self.cancelled_from,
        )
        return to_domain(row, rows).quantity_on(day)

    @classmethod
    def from_model(cls, row: models.Subscription) -> Subscription:
        return cls(
            id=row.id,
            sku=row.sku,
            billing_term=row.billing_term,
            start_date=row.start_date,
            quantity=row.quantity,
            cancelled_from=row.cancelled_from,
            customer_id=row.customer_id,
            product_id=row.product_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Subscription | None]:
        rows = await info.context.loaders.subscription_by_id.load_many(
            [decode_id(i) for i in node_ids]
        )
        return [cls.from_model(r) if r else None for r in rows]


@strawberry.input(description="A product to give a customer from a start date.")
class CreateSubscriptionInput:
    customer_id: relay.GlobalID = strawberry.field(
        description="The customer, one of those you may see."
    )
    product_id: relay.GlobalID = strawberry.field(
        description="The product: not retired, and not a one-time fee."
    )
    quantity: int = strawberry.field(description="The licences held from the start; at least 1.")
    start_date: date = strawberry.field(
        description="The first day in service; not in a month already invoiced to the "
        "customer's partner for the product's program."
    )
    billing_term: BillingTerm | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="How it is billed; the product's billing term when omitted."
    )


@strawberry.input(description="A new quantity for a subscription from a day on.")
class ChangeSubscriptionQuantityInput:
    id: relay.GlobalID = strawberry.field(description="The subscription (a CustomerSubscription).")
    quantity: int = strawberry.field(
        description="The licences held from `effectiveFrom` on; 0 or more."
    )
    effective_from: date = strawberry.field(
        description="The first day of the new quantity: not before the start, not from the "
        "cancellation on, and not in a month already invoiced. A second change for the same "
        "day is kept too and wins."
    )


@strawberry.input(description="When a subscription's service ends.")
class CancelSubscriptionInput:
    id: relay.GlobalID = strawberry.field(description="The subscription (a CustomerSubscription).")
    cancelled_from: date = strawberry.field(
        description="The first day no longer in service: not before the start, after every "
        "recorded quantity change, and not in a month already invoiced."
    )


@strawberry.type(description="The subscription as it is now, or why the change was refused.")
class SubscriptionPayload:
    subscription: Subscription | None = strawberry.field(
        description="The subscription after the change; null when it was refused."
    )
    errors: list[UserError] = errors_field()
