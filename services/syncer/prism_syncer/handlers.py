"""What the syncer does with each event type: plain functions, unit-testable without a broker."""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Mapping

from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated
from prism_domain.events import Envelope
from prism_psa.connections import PsaConfig
from prism_syncer.inbox import Handler
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.products.handlers import product_handlers
from prism_syncer.settings import SyncerSettings

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

    A live view over `HANDLERS` (a ChainMap), so that a handler replaced there is used.
    """
    config = PsaConfig.from_settings(
        settings.secret_key.get_secret_value(),
        settings.autotask_zone_probe_url,
        settings.redis_url,
    )
    links = settings.links
    invoices = invoice_handlers(config, links, lease_seconds=settings.invoice_sync_lease_seconds)
    return ChainMap(invoices, product_handlers(config, links), HANDLERS)
