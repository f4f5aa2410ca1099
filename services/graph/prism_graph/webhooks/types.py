"""The webhook types of the schema: endpoints, their deliveries and each attempt."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from prism_domain.webhooks import DeliveryStatus, WebhookEventType
from prism_graph.access import visible_webhook_deliveries
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError, errors_field
from prism_graph.common.nodes import load_nodes
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
from prism_tables import webhooks as rows

WebhookEvent = described_enum(
    WebhookEventType,
    name="WebhookEventType",
    description="An event a webhook endpoint can receive; the `Prism-Event` header and the "
    "body's `type` carry its name (e.g. `invoice.issued`).",
    values={
        "INVOICE_ISSUED": "An invoice was issued to your partner (`invoice.issued`).",
        "INVOICE_SYNC_RUN_FINISHED": "An invoice sync run ended with success, no change or "
        "a warning (`invoice_sync.run_finished`).",
        "INVOICE_SYNC_RUN_FAILED": "An invoice sync run ended in failure "
        "(`invoice_sync.run_failed`).",
        "INVOICE_SYNC_AWAITING_APPROVAL": "An invoice sync run waits for your approval "
        "before it writes (`invoice_sync.awaiting_approval`).",
        "PRODUCT_PRICE_CHANGED": "A product's buy price or RRP changes (`product.price_changed`).",
    },
)
WebhookDeliveryStatus = described_enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="Where the delivery of one event to one endpoint stands.",
    values={
        "PENDING": "Not delivered yet: an attempt is due now or after a wait (see "
        "`nextAttemptAt`).",
        "SUCCEEDED": "The endpoint answered with a 2xx status.",
        "FAILED": "Every attempt failed; re-send it once the endpoint is fixed.",
    },
)


@strawberry.type(description="One try at delivering an event: the request and the answer.")
class WebhookAttempt:
    requested_at: datetime = strawberry.field(description="When the request was sent.")
    http_status: int | None = strawberry.field(
        description="The endpoint's HTTP status; null when no answer came (timeout, refused "
        "connection, or not sent)."
    )
    response_body: str | None = strawberry.field(
        description="The start of the endpoint's answer (at most 2,000 bytes); null when none."
    )
    error: str | None = strawberry.field(
        description="Why no answer came (or why it was not sent); null when one came."
    )
    duration_ms: int = strawberry.field(description="How long the request took, in ms.")
    succeeded: bool = strawberry.field(description="Whether the answer was a 2xx status.")

    @classmethod
    def from_row(cls, row: rows.WebhookAttempt) -> WebhookAttempt:
        return cls(
            requested_at=row.requested_at,
            http_status=row.http_status,
            response_body=row.response_body,
            error=row.error,
            duration_ms=row.duration_ms,
            succeeded=row.succeeded,
        )


@strawberry.type(description="One event sent (or to be sent) to one of your endpoints.")
class WebhookDelivery(relay.Node):
    id: relay.NodeID[int]
    delivery_id: str = strawberry.field(
        description="The `Prism-Delivery` header: the same on every attempt and re-send, so "
        "a receiver can skip what it has already handled."
    )
    event_id: str = strawberry.field(
        description="The event's id (the body's `id`), the same for every endpoint."
    )
    event_type: WebhookEvent = strawberry.field(  # type: ignore[valid-type]
        description="What happened."
    )
    status: WebhookDeliveryStatus = strawberry.field(  # type: ignore[valid-type]
        description="Delivered, failed, or still to be tried."
    )
    attempt_count: int = strawberry.field(description="How many attempts were made.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due; null when none is (succeeded or failed)."
    )
    last_attempt_at: datetime | None = strawberry.field(
        description="When the last attempt was made; null before the first."
    )
    created_at: datetime = strawberry.field(description="When the event was queued for you.")
    body: str = strawberry.field(
        description="The exact JSON body sent on every attempt (the signature covers it)."
    )
    endpoint_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: rows.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=row.id,
            delivery_id=row.uid,
            event_id=row.event_id,
            event_type=WebhookEventType(row.event_type),
            status=DeliveryStatus(row.status),
            attempt_count=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_attempt_at=row.last_attempt_at,
            created_at=row.created_at,
            body=json.dumps(row.payload, separators=(",", ":"), sort_keys=True),
            endpoint_pk=row.endpoint_id,
        )

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempts(self, info: Info) -> list[WebhookAttempt]:
        found = await info.context.loaders.attempts_by_webhook_delivery.load(self.id)
        return [WebhookAttempt.from_row(r) for r in found]

    @strawberry.field(description="The endpoint it is for; null if it was deleted meanwhile.")
    async def endpoint(self, info: Info) -> WebhookEndpoint | None:
        row = await info.context.loaders.webhook_endpoint_by_id.load(self.endpoint_pk)
        return WebhookEndpoint.from_row(row) if row else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[WebhookDelivery | None]:
        return await load_nodes(info.context.loaders.webhook_delivery_by_id, node_ids, cls.from_row)


@strawberry.type(description="A page of an endpoint's deliveries, newest first.")
class WebhookDeliveryConnection(Counted, relay.Connection[WebhookDelivery]):
    pass


@strawberry.type(
    description="An HTTPS address of yours that receives Prism's events of the types chosen, "
    "signed with the endpoint's secret (see the API guide, Webhooks)."
)
class WebhookEndpoint(relay.Node):
    id: relay.NodeID[int]
    url: str = strawberry.field(description="Where the events are POSTed.")
    event_types: list[WebhookEvent] = strawberry.field(  # type: ignore[valid-type]
        description="The events it receives."
    )
    description: str = strawberry.field(description="Your note about it; may be empty.")
    enabled: bool = strawberry.field(
        description="Whether it receives events; a disabled endpoint gets no new deliveries, "
        "and those already queued wait until it is enabled again."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_row(cls, row: rows.WebhookEndpoint) -> WebhookEndpoint:
        return cls(
            id=row.id,
            url=row.url,
            event_types=[WebhookEventType(t) for t in row.event_types],
            description=row.description,
            enabled=row.enabled,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Its deliveries, newest first, each with its attempts.")
    async def deliveries(
        self,
        info: Info,
        status: Annotated[
            WebhookDeliveryStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only deliveries in this status."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> WebhookDeliveryConnection:
        query: Select[Any] = select(rows.WebhookDelivery).where(
            visible_webhook_deliveries(info.context.scope),
            rows.WebhookDelivery.endpoint_id == self.id,
        )
        if status is not None:
            query = query.where(rows.WebhookDelivery.status == DeliveryStatus(status).value)
        page: Page[rows.WebhookDelivery] = await paginate(
            info.context.reader.scalars,
            query,
            SortKey((rows.WebhookDelivery.id,), descending=True),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(WebhookDeliveryConnection, page, WebhookDelivery.from_row, filtered=query)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[WebhookEndpoint | None]:
        return await load_nodes(info.context.loaders.webhook_endpoint_by_id, node_ids, cls.from_row)


@strawberry.type(description="A page of your webhook endpoints, oldest first.")
class WebhookEndpointConnection(Counted, relay.Connection[WebhookEndpoint]):
    pass


# Inputs and payloads -----------------------------------------------------------------------


@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="An absolute https:// URL, at most 2,000 characters.")
    event_types: list[WebhookEvent] = strawberry.field(  # type: ignore[valid-type]
        description="The events it receives: at least one."
    )
    description: str | None = strawberry.field(
        default=None, description="Your note about it, at most 500 characters."
    )
    enabled: bool = strawberry.field(
        default=True, description="Whether it receives events from now on (default yes)."
    )


@strawberry.input(description="Changes to an endpoint; what is left out stays as it is.")
class UpdateWebhookEndpointInput:
    id: relay.GlobalID = strawberry.field(description="The endpoint to change.")
    url: str | None = strawberry.field(default=None, description="A new https:// URL.")
    event_types: list[WebhookEvent] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The events it receives from now on: at least one."
    )
    description: str | None = strawberry.field(
        default=None, description="A new note (an empty text clears it)."
    )
    enabled: bool | None = strawberry.field(
        default=None, description="Turn it on or off; off, it gets no new deliveries."
    )


@strawberry.input(description="An endpoint, named by its id.")
class WebhookEndpointIdInput:
    id: relay.GlobalID = strawberry.field(description="The endpoint's id.")


@strawberry.input(description="A delivery to send once more.")
class ResendWebhookDeliveryInput:
    id: relay.GlobalID = strawberry.field(description="The delivery's id (a WebhookDelivery).")


@strawberry.type(description="The endpoint, and the signing secret shown this once.")
class WebhookSecretPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint; null when refused."
    )
    secret: str | None = strawberry.field(
        description="The signing secret (`whsec_...`): shown only in this answer, never "
        "again. Keep it where your receiver can read it; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The endpoint as it is now.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="Whether the endpoint was deleted.")
class DeleteWebhookEndpointPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the endpoint deleted, with its deliveries; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The delivery whose re-send was requested.")
class ResendWebhookDeliveryPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The delivery; a worker makes the new attempt shortly (see its "
        "`attempts`). Null when refused."
    )
    errors: list[UserError] = errors_field()
