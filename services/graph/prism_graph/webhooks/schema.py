"""Webhook queries and mutations (N5). Everything is the caller's partner's: its staff and
API clients with the right to manage PSA sync settings, or the distributor acting for it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from prism_domain.access import Permission
from prism_graph.access import requires, visible_webhook_endpoints
from prism_graph.common.errors import UserError, user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.context import Info
from prism_graph.sync.common import partner_of
from prism_graph.webhooks import service
from prism_graph.webhooks.config import webhook_config
from prism_graph.webhooks.types import (
    CreateWebhookEndpointInput,
    DeleteWebhookEndpointPayload,
    ResendWebhookDeliveryInput,
    ResendWebhookDeliveryPayload,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointConnection,
    WebhookEndpointIdInput,
    WebhookEndpointPayload,
    WebhookSecretPayload,
)
from prism_tables import webhooks as rows

MANAGE = [requires(Permission.MANAGE_PSA_SYNC)]


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        permission_classes=MANAGE,
        description="Your partner's webhook endpoints, oldest first.",
    )
    async def webhook_endpoints(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> WebhookEndpointConnection:
        query: Select[Any] = select(rows.WebhookEndpoint).where(
            visible_webhook_endpoints(info.context.scope)
        )
        page: Page[rows.WebhookEndpoint] = await paginate(
            info.context.reader.scalars,
            query,
            SortKey((rows.WebhookEndpoint.id,)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(WebhookEndpointConnection, page, WebhookEndpoint.from_row, filtered=query)

    @strawberry.field(
        permission_classes=MANAGE,
        description="One of your webhook endpoints, with its deliveries; null if none is yours.",
    )
    async def webhook_endpoint(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID,
            strawberry.argument(description="The endpoint's id (a WebhookEndpoint)."),
        ],
    ) -> WebhookEndpoint | None:
        pk = node_pk(id, "WebhookEndpoint")
        row = await info.context.loaders.webhook_endpoint_by_id.load(pk) if pk > 0 else None
        return WebhookEndpoint.from_row(row) if row else None


def _no_partner() -> list[UserError]:
    return user_errors([service.NO_PARTNER])


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        permission_classes=MANAGE,
        description="Register an HTTPS endpoint for the events chosen. The answer carries "
        "its signing secret, shown this once only.",
    )
    async def create_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[
            CreateWebhookEndpointInput, strawberry.argument(description="The endpoint.")
        ],
    ) -> WebhookSecretPayload:
        partner = partner_of(info)
        if partner is None:
            return WebhookSecretPayload(endpoint=None, secret=None, errors=_no_partner())
        result = await service.create(
            info.context.database,
            webhook_config(info),
            partner,
            url=input.url,
            event_types=[str(t) for t in input.event_types],
            description=input.description,
            enabled=input.enabled,
        )
        if isinstance(result, list):
            return WebhookSecretPayload(endpoint=None, secret=None, errors=user_errors(result))
        return WebhookSecretPayload(
            endpoint=WebhookEndpoint.from_row(result.endpoint), secret=result.secret, errors=[]
        )

    @strawberry.mutation(
        permission_classes=MANAGE,
        description="Change an endpoint's URL, events, note or whether it is on.",
    )
    async def update_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[
            UpdateWebhookEndpointInput, strawberry.argument(description="What to change.")
        ],
    ) -> WebhookEndpointPayload:
        partner = partner_of(info)
        if partner is None:
            return WebhookEndpointPayload(endpoint=None, errors=_no_partner())
        result = await service.update(
            info.context.database,
            webhook_config(info),
            partner,
            node_pk(input.id, "WebhookEndpoint"),
            url=input.url,
            event_types=None if input.event_types is None else [str(t) for t in input.event_types],
            description=input.description,
            enabled=input.enabled,
        )
        if isinstance(result, list):
            return WebhookEndpointPayload(endpoint=None, errors=user_errors(result))
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(result), errors=[])

    @strawberry.mutation(
        permission_classes=MANAGE,
        description="Delete an endpoint with its deliveries; deliveries not yet made are dropped.",
    )
    async def delete_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[
            WebhookEndpointIdInput, strawberry.argument(description="The endpoint to delete.")
        ],
    ) -> DeleteWebhookEndpointPayload:
        partner = partner_of(info)
        if partner is None:
            return DeleteWebhookEndpointPayload(deleted_id=None, errors=_no_partner())
        result = await service.remove(
            info.context.database, partner, node_pk(input.id, "WebhookEndpoint")
        )
        if isinstance(result, list):
            return DeleteWebhookEndpointPayload(deleted_id=None, errors=user_errors(result))
        return DeleteWebhookEndpointPayload(
            deleted_id=relay.GlobalID("WebhookEndpoint", str(result)), errors=[]
        )

    @strawberry.mutation(
        permission_classes=MANAGE,
        description="Replace an endpoint's signing secret at once; the new one is shown this "
        "once only, and every attempt from now on is signed with it.",
    )
    async def rotate_webhook_secret(
        self,
        info: Info,
        input: Annotated[WebhookEndpointIdInput, strawberry.argument(description="The endpoint.")],
    ) -> WebhookSecretPayload:
        partner = partner_of(info)
        if partner is None:
            return WebhookSecretPayload(endpoint=None, secret=None, errors=_no_partner())
        result = await service.rotate_secret(
            info.context.database,
            webhook_config(info),
            partner,
            node_pk(input.id, "WebhookEndpoint"),
        )
        if isinstance(result, list):
            return WebhookSecretPayload(endpoint=None, secret=None, errors=user_errors(result))
        return WebhookSecretPayload(
            endpoint=WebhookEndpoint.from_row(result.endpoint), secret=result.secret, errors=[]
        )

    @strawberry.mutation(
        permission_classes=MANAGE,
        description="Send a delivery once more (e.g. after fixing your endpoint), with the "
        "same `Prism-Delivery` id; a worker makes the attempt shortly, recorded with the "
        "others.",
    )
    async def resend_webhook_delivery(
        self,
        info: Info,
        input: Annotated[
            ResendWebhookDeliveryInput, strawberry.argument(description="The delivery.")
        ],
    ) -> ResendWebhookDeliveryPayload:
        partner = partner_of(info)
        if partner is None:
            return ResendWebhookDeliveryPayload(delivery=None, errors=_no_partner())
        result = await service.request_resend(
            info.context.database, partner, node_pk(input.id, "WebhookDelivery")
        )
        if isinstance(result, list):
            return ResendWebhookDeliveryPayload(delivery=None, errors=user_errors(result))
        return ResendWebhookDeliveryPayload(delivery=WebhookDelivery.from_row(result), errors=[])
