"""What the syncer does with each event type: plain functions, unit-testable without a broker."""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated
from prism_domain.events import Envelope
from prism_psa.connections import PsaConfig
from prism_syncer.inbox import Handler
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.products.handlers import product_handlers
from prism_syncer.settings import SyncerSettings
from prism_syncer.webhooks.handlers import webhook_handlers, with_fan_out
from prism_syncer.webhooks.sender import WebhookConfig

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


def handlers_for(settings: SyncerSettings) -> Mapping[str, Handler]:
    """Every handler, those needing configuration (the PSA's key and address) included.

    A live view over `HANDLERS` (a ChainMap), so that a handler replaced there is used; the
    event types partners subscribe to get their webhook fan-out in front of their own handler.
    """
    config = PsaConfig.of(settings, settings.autotask_zone_probe_url)
    links = settings.links
    invoices = invoice_handlers(config, links, lease_seconds=settings.invoice_sync_lease_seconds)
    webhooks = WebhookConfig(
        settings.secret_key.get_secret_value(),
        timeout=settings.webhooks_timeout_seconds,
        max_attempts=settings.webhooks_max_attempts,
        retry_base=timedelta(seconds=settings.webhooks_retry_base_seconds),
        allow_http_loopback=settings.webhooks_allow_http_loopback,
    )
    own = ChainMap(invoices, product_handlers(config, links), HANDLERS)
    # An event partners subscribe to is also fanned out to their webhooks (N5).
    return ChainMap(with_fan_out(own, webhooks), webhook_handlers(webhooks), own)
