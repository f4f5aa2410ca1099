"""Subscription queries and mutations (O7, P2). Staff create them directly; a submitted order
creates them through the same use case, in the submit's unit of work."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import FieldError
from prism_graph.access import requires
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.context import Info
from prism_graph.subscriptions import service
from prism_graph.subscriptions.types import (
    NODE_NAME,
    CancelSubscriptionInput,
    ChangeSubscriptionQuantityInput,
    CreateSubscriptionInput,
    Subscription,
    SubscriptionPayload,
)
from prism_tables import subscriptions as models


def _payload(result: models.Subscription | list[FieldError]) -> SubscriptionPayload:
    if isinstance(result, list):
        return SubscriptionPayload(subscription=None, errors=user_errors(result))
    return SubscriptionPayload(subscription=Subscription.from_model(result), errors=[])


@strawberry.type
class SubscriptionQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CUSTOMERS)],
        description="One subscription by id; null when there is none, or it is of a customer "
        "you may not see.",
    )
    async def subscription(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID,
            strawberry.argument(description="The subscription's id (a CustomerSubscription)."),
        ],
    ) -> Subscription | None:
        pk = node_pk(id, NODE_NAME)
        row = await info.context.loaders.subscription_by_id.load(pk) if pk > 0 else None
        return Subscription.from_model(row) if row else None


@strawberry.type
class SubscriptionMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_SUBSCRIPTIONS)],
        description="Give a customer a product from a start date, with a first quantity.",
    )
    async def create_subscription(
        self,
        info: Info,
        input: Annotated[
            CreateSubscriptionInput,
            strawberry.argument(description="The customer, product, quantity and start."),
        ],
    ) -> SubscriptionPayload:
        result = await info.context.database.run(
            service.create_subscription,
            info.context.scope,
            service.NewSubscription(
                customer_id=node_pk(input.customer_id, "Customer"),
                product_id=node_pk(input.product_id, "Product"),
                quantity=input.quantity,
                start_date=input.start_date,
                billing_term=input.billing_term,
            ),
        )
        return _payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_SUBSCRIPTIONS)],
        description="Change a subscription's quantity from a day on; every earlier quantity "
        "stays in its history.",
    )
    async def change_subscription_quantity(
        self,
        info: Info,
        input: Annotated[
            ChangeSubscriptionQuantityInput,
            strawberry.argument(description="The subscription, its new quantity and the day."),
        ],
    ) -> SubscriptionPayload:
        result = await info.context.database.run(
            service.change_quantity,
            info.context.scope,
            node_pk(input.id, NODE_NAME),
            quantity=input.quantity,
            effective_from=input.effective_from,
        )
        return _payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_SUBSCRIPTIONS)],
        description="End a subscription: no service from `cancelledFrom` on. Quantity changes "
        "dated from then on are refused, and it cannot be cancelled twice.",
    )
    async def cancel_subscription(
        self,
        info: Info,
        input: Annotated[
            CancelSubscriptionInput,
            strawberry.argument(description="The subscription and its first day out of service."),
        ],
    ) -> SubscriptionPayload:
        result = await info.context.database.run(
            service.cancel,
            info.context.scope,
            node_pk(input.id, NODE_NAME),
            cancelled_from=input.cancelled_from,
        )
        return _payload(result)
