"""The DataLoaders of the webhook tables, each through the caller's visibility (T3)."""

from __future__ import annotations

import functools

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from prism_graph import access
from prism_graph.common.loaders import RequestLoaders, by_id_loader, grouped_loader
from prism_tables.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookLoaders(RequestLoaders):
    @functools.cached_property
    def webhook_endpoint_by_id(self) -> DataLoader[int, WebhookEndpoint | None]:
        return by_id_loader(
            self.reader, WebhookEndpoint, access.visible_webhook_endpoints, self.scope
        )

    @functools.cached_property
    def webhook_delivery_by_id(self) -> DataLoader[int, WebhookDelivery | None]:
        return by_id_loader(
            self.reader, WebhookDelivery, access.visible_webhook_deliveries, self.scope
        )

    @functools.cached_property
    def attempts_by_webhook_delivery(self) -> DataLoader[int, list[WebhookAttempt]]:
        return grouped_loader(
            self.reader,
            WebhookAttempt,
            WebhookAttempt.delivery_id,
            WebhookAttempt.delivery_id.in_(
                select(WebhookDelivery.id).where(access.visible_webhook_deliveries(self.scope))
            ),
            (WebhookAttempt.id,),
        )
