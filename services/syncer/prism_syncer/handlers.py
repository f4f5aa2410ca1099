"""What the syncer does with each event type: plain functions, unit-testable without a broker."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated
from prism_domain.events import Envelope
from prism_syncer.inbox import Handler

log = logging.getLogger(__name__)


def on_customer_created(session: Session, envelope: Envelope) -> None:
    # A new customer is not synced until a partner maps it to a PSA company and contract
    # (SPEC S4); for now the syncer only takes note that it exists.
    log.info(
        "customer %s (%s) created; unmapped until a partner maps it",
        envelope.aggregate_id,
        envelope.payload.get("name"),
    )


HANDLERS: dict[str, Handler] = {
    CustomerCreated.type: on_customer_created,
}
