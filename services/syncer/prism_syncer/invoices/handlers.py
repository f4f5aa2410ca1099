"""Event handlers of the invoice sync (S4, S5, S9) and its wiring to a partner's PSA.

A handler only *records* a run (PENDING) in the event's inbox transaction, so a redelivered
event records nothing twice. The run is driven once that transaction has committed (a
session `after_commit` hook, in the same worker thread): the PSA writes happen outside any
database transaction, each recorded as it goes (see `invoices.sync`). If the worker dies
first, the run stays PENDING/RUNNING and the safety check resumes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from prism_domain.events import Envelope
from prism_domain.sync import ConnectionStatus, SyncTrigger
from prism_platform.db import writer
from prism_psa.connections import (
    PsaConfig,
    PsaNotConfigured,
    connection_of,
    not_connected,
    program_psa,
    unreadable,
)
from prism_psa.invoices import sources
from prism_psa.port import ContractPort, PsaUnauthorized
from prism_psa.secrets import UnreadableSecret
from prism_syncer.inbox import Handler
from prism_syncer.invoices import notices
from prism_syncer.invoices.jobs import DEFAULT_LEASE_SECONDS
from prism_syncer.invoices.recovery import resume, safety_check
from prism_syncer.invoices.revert import record_revert
from prism_syncer.invoices.sync import InvoiceSync, SyncRefused, start_run
from prism_tables.sync.connections import PsaConnection
from prism_tables.sync.invoices import InvoiceSyncRun, InvoiceSyncRunItem

log = logging.getLogger(__name__)


def psa_opener(engine: Engine, config: PsaConfig) -> Callable[[int, int], ContractPort]:
    """(partner, program) -> the adapter of the PSA the program syncs to (S13)."""

    def open_psa(partner_id: int, program_id: int) -> ContractPort:
        with Session(engine) as session:
            psa = program_psa(session, partner_id, program_id)
            row = connection_of(session, partner_id, psa)
            if row is None:
                raise SyncRefused(not_connected(psa))
            try:
                return config.open(row)
            except UnreadableSecret:
                raise SyncRefused(unreadable(psa)) from None
            except PsaNotConfigured as exc:
                raise SyncRefused(str(exc)) from None

    return open_psa


def mark_refused(engine: Engine) -> Callable[[int, PsaUnauthorized], None]:
    """Unauthorized mid-sync: the connection to the PSA that refused shows FAILING with the
    cause (S1, S6)."""

    def refused(partner_id: int, exc: PsaUnauthorized) -> None:
        with Session(writer(engine)) as session, session.begin():
            session.execute(
                update(PsaConnection)
                .where(PsaConnection.partner_id == partner_id, PsaConnection.psa == exc.psa.value)
                .values(
                    status=ConnectionStatus.FAILING.value,
                    problem=exc.problem.value,
                    status_message=str(exc),
                    tested_at=datetime.now(UTC),
                )
            )

    return refused


def failure_notifier(links: notices.Links) -> Callable[[Session, InvoiceSyncRun], None]:
    def notify(session: Session, run: InvoiceSyncRun) -> None:
        errors = session.scalars(
            select(InvoiceSyncRunItem.message).where(
                InvoiceSyncRunItem.run_id == run.id,
                InvoiceSyncRunItem.outcome == "ERROR",
                InvoiceSyncRunItem.message.is_not(None),
            )
        ).all()
        notices.run_failed(
            session,
            kind="invoice",
            run_id=run.id,
            partner_id=run.partner_id,
            program_id=run.program_id,
            started_at=run.started_at,
            message=run.message,
            link=links.invoice_run(run.id),
            counts=[
                ("Customers synced", run.customers_synced),
                ("Subscriptions synced", run.subscriptions_synced),
                ("Customers failed", run.customers_failed),
            ],
            errors=[e for e in errors if e],
        )

    return notify


SyncFactory = Callable[[Engine], InvoiceSync]


def sync_factory(
    config: PsaConfig, links: notices.Links, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> SyncFactory:
    def make(engine: Engine) -> InvoiceSync:
        return InvoiceSync(
            engine=engine,
            open_psa=psa_opener(engine, config),
            on_unauthorized=mark_refused(engine),
            notify_failure=failure_notifier(links),
            lease_seconds=lease_seconds,
        )

    return make


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def after_commit(session: Session, work: Callable[[], object]) -> None:
    """Run `work` once the caller's transaction has committed (never if it rolls back)."""

    def run(_: Session) -> None:
        try:
            work()
        except Exception:  # the run stays resumable; the event itself was handled
            log.exception("invoice sync after commit failed; the safety check resumes it")

    event.listen(session, "after_commit", run, once=True)


def invoice_handlers(
    config: PsaConfig,
    links: notices.Links | None = None,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> dict[str, Handler]:
    from prism_domain.invoicing import InvoiceIssued
    from prism_domain.sync import (
        InvoiceSyncDecided,
        InvoiceSyncRequested,
        InvoiceSyncRevertRequested,
        InvoiceSyncSafetyCheckDue,
    )

    make = sync_factory(config, links or notices.Links(), lease_seconds=lease_seconds)

    def on_issued(session: Session, envelope: Envelope) -> None:
        payload = envelope.payload
        partner_id, program_id = int(payload["partner_id"]), int(payload["program_id"])
        invoice_id = int(payload["invoice_id"])
        settings = sources.settings_of(session, partner_id, program_id)
        if settings is None or not settings.sync_enabled:
            log.info("invoice %s: sync of program %s is off (S9)", invoice_id, program_id)
            return
        taken = session.scalar(
            select(InvoiceSyncRun.id).where(
                InvoiceSyncRun.invoice_id == invoice_id,
                InvoiceSyncRun.customer_id.is_(None),
                InvoiceSyncRun.trigger.in_(
                    [SyncTrigger.INVOICE_ISSUED.value, SyncTrigger.SAFETY_CHECK.value]
                ),
            )
        )
        if taken is not None:  # the safety check found this invoice first
            return
        run = start_run(
            session,
            partner_id=partner_id,
            program_id=program_id,
            trigger=SyncTrigger.INVOICE_ISSUED.value,
            invoice_id=invoice_id,
            approval=settings.require_approval,
        )
        engine, run_id = _engine_of(session), run.id
        after_commit(session, lambda: make(engine).drive(run_id))

    def on_requested(session: Session, envelope: Envelope) -> None:
        payload = envelope.payload
        trigger = SyncTrigger(payload.get("trigger") or SyncTrigger.MANUAL.value)
        engine = _engine_of(session)
        if trigger is SyncTrigger.SAFETY_CHECK:
            after_commit(session, lambda: safety_check(engine, make(engine)))
            return
        partner_id, program_id = int(payload["partner_id"]), int(payload["program_id"])
        settings = sources.settings_of(session, partner_id, program_id)
        if settings is None or not settings.sync_enabled:
            log.info("invoice sync of program %s is off for partner %s", program_id, partner_id)
            return
        customer_id = payload.get("customer_id")
        invoice_id = payload.get("invoice_id") or sources.latest_invoice_id(
            session, partner_id, program_id, int(customer_id) if customer_id else None
        )
        run = start_run(
            session,
            partner_id=partner_id,
            program_id=program_id,
            trigger=trigger.value,
            invoice_id=int(invoice_id) if invoice_id else None,
            customer_id=int(customer_id) if customer_id else None,
        )
        run_id = run.id

        def drive() -> None:
            sync = make(engine)
            sync.drive(run_id)
            resume(engine, sync, partner_id=partner_id)  # runs an earlier crash left behind

        after_commit(session, drive)

    def on_decided(session: Session, envelope: Envelope) -> None:
        """A partner admin approved or dismissed changes of a run waiting for approval."""
        engine, run_id = _engine_of(session), int(envelope.payload["run_id"])
        after_commit(session, lambda: make(engine).drive(run_id))

    def on_revert_requested(session: Session, envelope: Envelope) -> None:
        """Record the REVERT run (one per reverted run: `reverts_run_id` is unique, so a
        repeated request finds the first's run: `record_revert`), then drive it after
        commit; the rule is checked when it is planned (`invoices.revert`)."""
        payload = envelope.payload
        partner_id, reverted_id = int(payload["partner_id"]), int(payload["run_id"])
        reverted = session.get(InvoiceSyncRun, reverted_id)
        if reverted is None or reverted.partner_id != partner_id:
            log.warning(
                "revert of invoice sync run %s: not a run of partner %s", reverted_id, partner_id
            )
            return
        engine, run_id = _engine_of(session), record_revert(session, reverted)
        after_commit(session, lambda: make(engine).drive(run_id))

    def on_safety_check_due(session: Session, envelope: Envelope) -> None:
        engine = _engine_of(session)
        after_commit(session, lambda: safety_check(engine, make(engine)))

    return {
        InvoiceIssued.type: on_issued,
        InvoiceSyncRequested.type: on_requested,
        InvoiceSyncDecided.type: on_decided,
        InvoiceSyncRevertRequested.type: on_revert_requested,
        InvoiceSyncSafetyCheckDue.type: on_safety_check_due,
    }


__all__ = ["connection_of", "invoice_handlers", "psa_opener"]
