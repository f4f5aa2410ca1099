"""Resuming what a crash left behind, and the periodic safety check (S5, S10).

Driving a run twice at once is safe (planning is claimed by one transaction, jobs by
contract-service leases, the record by one transaction), so resuming never needs to know
whether the worker that started a run is still alive: a live one's leases make the resumer
skip its jobs, a dead one's leases expire and its jobs are re-read and finished.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from prism_domain.sync import SyncTrigger
from prism_platform.db import writer
from prism_psa.invoices import sources
from prism_psa.outcomes import RunStatus
from prism_syncer.invoices.jobs import JobStatus
from prism_syncer.invoices.sync import InvoiceSync, start_run
from prism_tables.sync.connections import ProgramSyncSettings
from prism_tables.sync.invoices import InvoiceSyncJob, InvoiceSyncRun

log = logging.getLogger(__name__)

#: How far back the safety check looks for issued invoices that were never synced.
LOOKBACK_DAYS = 62


def unfinished_runs(engine: Engine, partner_id: int | None = None) -> list[int]:
    """Runs left PENDING or RUNNING, and runs waiting for approval with work to do (decisions
    taken, or approved jobs left unfinished): a run that only waits is not resumed."""
    with Session(engine) as session:
        work = select(InvoiceSyncJob.id).where(
            InvoiceSyncJob.run_id == InvoiceSyncRun.id,
            or_(
                InvoiceSyncJob.status.in_([JobStatus.PENDING.value, JobStatus.RUNNING.value]),
                and_(
                    InvoiceSyncJob.status == JobStatus.AWAITING_APPROVAL.value,
                    InvoiceSyncJob.decision.is_not(None),
                ),
            ),
        )
        stmt = select(InvoiceSyncRun.id).where(
            or_(
                InvoiceSyncRun.status.in_([RunStatus.PENDING.value, RunStatus.RUNNING.value]),
                and_(
                    InvoiceSyncRun.status == RunStatus.AWAITING_APPROVAL.value,
                    work.exists(),
                ),
            )
        )
        if partner_id is not None:
            stmt = stmt.where(InvoiceSyncRun.partner_id == partner_id)
        return [int(i) for i in session.scalars(stmt.order_by(InvoiceSyncRun.id))]


def resume(engine: Engine, sync: InvoiceSync, *, partner_id: int | None = None) -> list[int]:
    """Drive every unfinished run (of one partner; see `unfinished_runs`); the runs driven."""
    runs = unfinished_runs(engine, partner_id)
    for run_id in runs:
        try:
            sync.drive(run_id)
        except Exception:
            log.exception("resuming invoice sync run %s failed; the next check retries", run_id)
    return runs


def unsynced_invoices(engine: Engine, today: date) -> list[tuple[int, int, int]]:
    """(invoice, partner, program) of recent invoices of programs with sync on that no run
    (of the whole invoice) has ever taken up."""
    with Session(engine) as session:
        enabled = {
            (p, g)
            for p, g in session.execute(
                select(ProgramSyncSettings.partner_id, ProgramSyncSettings.program_id).where(
                    ProgramSyncSettings.sync_enabled.is_(True)
                )
            ).all()
        }
        if not enabled:
            return []
        since = today - timedelta(days=LOOKBACK_DAYS)
        synced = set(
            session.scalars(
                select(InvoiceSyncRun.invoice_id).where(
                    InvoiceSyncRun.invoice_id.is_not(None), InvoiceSyncRun.customer_id.is_(None)
                )
            )
        )
        found = []
        for invoice_id in sources.invoice_ids_since(session, {g for _, g in enabled}, since):
            if invoice_id in synced:
                continue
            invoice = sources.invoice(session, invoice_id)
            if invoice and (invoice.partner_id, invoice.program_id) in enabled:
                found.append((invoice.id, invoice.partner_id, invoice.program_id))
        return found


def safety_check(engine: Engine, sync: InvoiceSync, today: date | None = None) -> list[int]:
    """Resume unfinished runs, then sync issued invoices whose event never led to a run."""
    driven = resume(engine, sync)
    for invoice_id, partner_id, program_id in unsynced_invoices(
        engine, today or datetime.now(UTC).date()
    ):
        with Session(writer(engine)) as session, session.begin():
            settings = sources.settings_of(session, partner_id, program_id)
            run = start_run(
                session,
                partner_id=partner_id,
                program_id=program_id,
                trigger=SyncTrigger.SAFETY_CHECK.value,
                invoice_id=invoice_id,
                approval=bool(settings and settings.require_approval),
            )
            run_id = run.id
        sync.drive(run_id)
        driven.append(run_id)
    return driven
