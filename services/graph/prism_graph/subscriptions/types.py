from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay

from prism_graph.catalogue.types import BillingTerm, Product
from prism_graph.common.errors import UserError
from prism_graph.common.ids import decode_id
from prism_graph.context import Info
from prism_tables import subscriptions as models

NODE_NAME = "CustomerSubscription"


@strawberry.type(description="One entry of a subscription's quantity history (P2).")
class QuantityChange:
    effective_from: date
    quantity: int
    sequence: int = strawberry.field(description="Order of changes recorded for one day.")
    recorded_at: datetime


# Named CustomerSubscription in the schema: a type named "Subscription" would be taken for
# the subscription root by tools reading schema.graphql.
@strawberry.type(
    name=NODE_NAME,
    description="A product a customer holds from its start date, with its quantity history.",
)
class Subscription(relay.Node):
    id: relay.NodeID[int]
    sku: str
    billing_term: BillingTerm  # type: ignore[valid-type]
    start_date: date
    quantity: int = strawberry.field(
        description="The latest recorded quantity (in force from its change's date on)."
    )
    cancelled_from: date | None = strawberry.field(
        description="The first day no longer in service, when cancelled."
    )
    customer_id: strawberry.Private[int]
    product_id: strawberry.Private[int]

    @strawberry.field
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

    @strawberry.field(description="The quantity in service on a day (0 before the start).")
    async def quantity_on(self, info: Info, day: date) -> int:
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


@strawberry.input
class CreateSubscriptionInput:
    customer_id: relay.GlobalID
    product_id: relay.GlobalID
    quantity: int
    start_date: date
    billing_term: BillingTerm | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Default: the product's billing term."
    )


@strawberry.input
class ChangeSubscriptionQuantityInput:
    id: relay.GlobalID
    quantity: int
    effective_from: date


@strawberry.input
class CancelSubscriptionInput:
    id: relay.GlobalID
    cancelled_from: date = strawberry.field(description="The first day no longer in service.")


@strawberry.type
class SubscriptionPayload:
    subscription: Subscription | None
    errors: list[UserError]
