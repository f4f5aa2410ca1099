"""The webhook handlers: the fan-out added to every subscribable event type (beside that
type's own handler, in the same inbox transaction), a partner's re-send, and the relay's
periodic call for attempts due. Sending always waits for the transaction to commit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from prism_domain.events import Envelope
from prism_domain.webhooks import (
    DeliveryStatus,
    WebhookDeliveriesDue,
    WebhookEventType,
    WebhookResendRequested,
)
from prism_syncer.inbox import Handler
from prism_syncer.webhooks import sender as sending
from prism_syncer.webhooks.fanout import fan_out
from prism_syncer.webhooks.sender import WebhookConfig, WebhookSender
from prism_tables.webhooks import WebhookDelivery

log = logging.getLogger(__name__)


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def after_commit(session: Session, work: Callable[[], object]) -> None:
    """Run `work` once the caller's transaction has committed (never if it rolls back). A
    failure leaves the deliveries due: the next sweep sends them."""

    def run(_: Session) -> None:
        try:
            work()
        except Exception:
            log.exception("sending webhooks after commit failed; the next sweep retries")

    event.listen(session, "after_commit", run, once=True)


def webhook_handlers(config: WebhookConfig) -> dict[str, Handler]:
    def on_resend(session: Session, envelope: Envelope) -> None:
        payload = envelope.payload
        delivery = session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.id == int(payload["delivery_id"]),
                WebhookDelivery.partner_id == int(payload["partner_id"]),
            )
        )
        if delivery is None:  # deleted with its endpoint meanwhile
            return
        if delivery.status != DeliveryStatus.PENDING:
            # A re-send is one more attempt: failed again, it stays FAILED.
            delivery.attempts_left = 1
        delivery.status = DeliveryStatus.PENDING.value
        delivery.next_attempt_at = sending.now()
        engine, ids = _engine_of(session), [delivery.id]
        after_commit(session, lambda: WebhookSender(engine, config).send(ids))

    def on_due(session: Session, envelope: Envelope) -> None:
        engine = _engine_of(session)
        after_commit(session, lambda: WebhookSender(engine, config).send_due())

    return {WebhookResendRequested.type: on_resend, WebhookDeliveriesDue.type: on_due}


def with_fan_out(handlers: Mapping[str, Handler], config: WebhookConfig) -> dict[str, Handler]:
    """For each subscribable event type, a handler that records its webhook deliveries and
    then runs the type's own handler (looked up when called, so a replaced one is used), in
    one transaction; once it commits, the deliveries are sent."""

    def layered(event_type: str) -> Handler:
        def handle(session: Session, envelope: Envelope) -> None:
            ids = fan_out(session, envelope, max_attempts=config.max_attempts)
            if ids:
                engine = _engine_of(session)
                after_commit(session, lambda: WebhookSender(engine, config).send(ids))
            own = handlers.get(event_type)
            if own is not None:
                own(session, envelope)

        return handle

    return {t.value: layered(t.value) for t in WebhookEventType}
