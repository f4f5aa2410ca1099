"""The subscriptions' DataLoaders (O7): a subscription by id, each customer's subscriptions
and each subscription's quantity history."""

from __future__ import annotations

import functools

from sqlalchemy import ColumnElement, select
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_graph import access
from prism_graph.common.loaders import GroupedRows, RequestLoaders, by_id_loader
from prism_tables.subscriptions import Subscription, SubscriptionQuantity


class SubscriptionLoaders(RequestLoaders):
    @functools.cached_property
    def subscription_by_id(self) -> DataLoader[int, Subscription | None]:
        return by_id_loader(self.reader, Subscription, access.visible_subscriptions, self.scope)

    @functools.cached_property
    def subscriptions_by_customer(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            Subscription,
            Subscription.customer_id,
            access.visible_subscriptions,
            self.scope,
            (Subscription.id,),
        )

    @functools.cached_property
    def quantities_by_subscription(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            SubscriptionQuantity,
            SubscriptionQuantity.subscription_id,
            _visible_quantities,
            self.scope,
            (SubscriptionQuantity.effective_from, SubscriptionQuantity.sequence),
        )


def _visible_quantities(scope: Scope | None) -> ColumnElement[bool]:
    """The quantity history of the subscriptions `scope` may see."""
    return SubscriptionQuantity.subscription_id.in_(
        select(Subscription.id).where(access.visible_subscriptions(scope))
    )
