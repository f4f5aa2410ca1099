"""One delivery per enabled endpoint subscribed to an event's type, written in the event's
inbox transaction: a redelivered event is skipped by the inbox, and the unique (endpoint,
event) pair would refuse a second row anyway."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_domain.events import Envelope
from prism_domain.webhooks import DeliveryStatus, WebhookEventType
from prism_syncer.webhooks import sender
from prism_tables.webhooks import WebhookDelivery, WebhookEndpoint

SUBSCRIBABLE = frozenset(t.value for t in WebhookEventType)


def body_of(envelope: Envelope) -> dict[str, Any]:
    """What a receiver gets: the event's id (the same for every endpoint), type, time and
    data (the event's payload)."""
    return {
        "id": str(envelope.event_id),
        "type": envelope.type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "data": envelope.payload,
    }


def fan_out(session: Session, envelope: Envelope, *, max_attempts: int) -> list[int]:
    """Record the deliveries of `envelope`; return their ids. An event that names a partner
    goes to that partner's endpoints; one that names none (a price change of the
    distributor's price list) to every partner's."""
    if envelope.type not in SUBSCRIBABLE:
        return []
    partner = envelope.payload.get("partner_id")
    query = select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    if partner is not None:
        query = query.where(WebhookEndpoint.partner_id == int(partner))
    endpoints = [
        e
        for e in session.scalars(query.order_by(WebhookEndpoint.id))
        if envelope.type in e.event_types
    ]
    body, now = body_of(envelope), sender.now()
    deliveries = [
        WebhookDelivery(
            uid=str(uuid.uuid4()),
            endpoint_id=endpoint.id,
            partner_id=endpoint.partner_id,
            event_id=str(envelope.event_id),
            event_type=envelope.type,
            payload=body,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            attempts_left=max_attempts,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    session.flush()
    return [d.id for d in deliveries]
