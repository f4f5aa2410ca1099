"""Event handlers of the product sync: a partner's request (`product_sync.requested`) and a
price change (`product.price_changed`), each a run recorded in the handler's transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_domain.events import Envelope
from prism_domain.sync import ConnectionStatus, SyncTrigger
from prism_platform.metrics import count_sync_run
from prism_psa.connections import (
    PsaConfig,
    PsaNotConfigured,
    connection_of,
    not_connected,
    unreadable,
)
from prism_psa.port import PsaUnauthorized
from prism_psa.secrets import UnreadableSecret
from prism_syncer.inbox import Handler
from prism_syncer.invoices import notices
from prism_syncer.products.sync import fail_run, start_run, sync_products
from prism_tables.sync.connections import ProgramSyncSettings
from prism_tables.sync.products import ProductSyncRun, ProductSyncRunItem

log = logging.getLogger(__name__)


def run_product_sync(
    session: Session,
    config: PsaConfig,
    partner_id: int,
    program_id: int,
    trigger: SyncTrigger,
    on_progress: Callable[[int, int], None] | None = None,
) -> ProductSyncRun | None:
    """One run for one partner and program; None when the program's sync is off (S9).

    `on_progress(done, total)`: products recorded so far (see `sync_products`). The run is
    counted in the metrics when the caller commits it."""
    run = _run(session, config, partner_id, program_id, trigger, on_progress)
    if run is not None:
        count_sync_run(session, "product", run.status)
    return run


def _run(
    session: Session,
    config: PsaConfig,
    partner_id: int,
    program_id: int,
    trigger: SyncTrigger,
    on_progress: Callable[[int, int], None] | None,
) -> ProductSyncRun | None:
    # One product run of a program at a time: a second one (two price changes delivered
    # together) waits here until the first has committed its services and links, then finds
    # them, instead of creating the same services again beside it (PostgreSQL: this row
    # lock; SQLite: its one writer).
    settings = session.scalar(
        select(ProgramSyncSettings)
        .where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
        .with_for_update()
    )
    if settings is None or not settings.sync_enabled:
        log.info("product sync of program %s is off for partner %s", program_id, partner_id)
        return None
    now = datetime.now(UTC)
    connection = connection_of(session, partner_id, settings.psa)
    if connection is None:
        return fail_run(
            start_run(session, partner_id, program_id, trigger, now), not_connected(settings.psa)
        )
    try:
        psa = config.open(connection)
    except UnreadableSecret:
        return fail_run(
            start_run(session, partner_id, program_id, trigger, now), unreadable(settings.psa)
        )
    except PsaNotConfigured as exc:
        return fail_run(start_run(session, partner_id, program_id, trigger, now), str(exc))

    def refused(exc: PsaUnauthorized) -> None:
        connection.status = ConnectionStatus.FAILING.value
        connection.problem = exc.problem.value
        connection.status_message = str(exc)
        connection.tested_at = datetime.now(UTC)

    try:
        return sync_products(
            session,
            psa,
            partner_id=partner_id,
            program_id=program_id,
            trigger=trigger,
            now=now,
            on_unauthorized=refused,
            on_progress=on_progress,
        )
    finally:
        psa.close()


def notify(session: Session, run: ProductSyncRun | None, links: notices.Links) -> None:
    """S8: a failed run mails its status link; a run a price change caused mails the
    price-change warning (one per run, listing every product whose prices were updated)."""
    if run is None:
        return
    session.flush()
    items = session.scalars(
        select(ProductSyncRunItem).where(ProductSyncRunItem.run_id == run.id)
    ).all()
    if run.status == "FAILURE":
        notices.run_failed(
            session,
            kind="product",
            run_id=run.id,
            partner_id=run.partner_id,
            program_id=run.program_id,
            started_at=run.started_at,
            message=run.message,
            link=links.product_run(run.id),
            counts=[
                ("Products synced", run.products_synced),
                ("Products failed", run.failed),
            ],
            errors=[i.message for i in items if i.outcome == "ERROR" and i.message],
        )
    if run.trigger == SyncTrigger.PRICE_CHANGED.value:
        changes = [
            {
                "sku": i.sku,
                "service_id": i.service_id,
                "service_name": i.service_name,
                "unit_price": i.unit_price,
                "unit_cost": i.unit_cost,
            }
            for i in items
            if i.action == "UPDATE_PRICE" and i.outcome in ("SUCCESS", "WARNING")
        ]
        notices.prices_changed(
            session,
            run_id=run.id,
            partner_id=run.partner_id,
            program_id=run.program_id,
            changes=changes,
            link=links.product_run(run.id),
        )


def product_handlers(config: PsaConfig, links: notices.Links | None = None) -> dict[str, Handler]:
    from prism_domain.catalogue import ProductPriceChanged
    from prism_domain.sync import ProductSyncRequested

    links = links or notices.Links()

    def on_requested(session: Session, envelope: Envelope) -> None:
        payload = envelope.payload
        run = run_product_sync(
            session,
            config,
            int(payload["partner_id"]),
            int(payload["program_id"]),
            SyncTrigger(payload.get("trigger", SyncTrigger.MANUAL.value)),
        )
        notify(session, run, links)

    def on_price_changed(session: Session, envelope: Envelope) -> None:
        program_id = int(envelope.payload["program_id"])
        partners = session.scalars(
            select(ProgramSyncSettings.partner_id).where(
                ProgramSyncSettings.program_id == program_id,
                ProgramSyncSettings.sync_enabled.is_(True),
            )
        ).all()
        for partner_id in partners:
            # A run that started after the change already synced the new price: a price list
            # import raising hundreds of changes costs one run, not hundreds (N3).
            later = session.scalar(
                select(ProductSyncRun.id)
                .where(
                    ProductSyncRun.partner_id == partner_id,
                    ProductSyncRun.program_id == program_id,
                    ProductSyncRun.started_at >= envelope.occurred_at,
                    ProductSyncRun.status != "FAILURE",
                )
                .limit(1)
            )
            if later is None:
                run = run_product_sync(
                    session, config, partner_id, program_id, SyncTrigger.PRICE_CHANGED
                )
                notify(session, run, links)

    return {
        ProductSyncRequested.type: on_requested,
        ProductPriceChanged.type: on_price_changed,
    }
