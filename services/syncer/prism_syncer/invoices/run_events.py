"""The event an invoice sync run's outcome raises (S7, N5): `invoice_sync.run_finished`, or
`invoice_sync.run_failed` for a FAILURE, staged in the outbox by the transaction that gives
the run its final status, so it is raised exactly when that status is recorded."""

from __future__ import annotations

from sqlalchemy.orm import Session

from prism_domain.events import DomainEvent
from prism_domain.sync import InvoiceSyncRunFailed, InvoiceSyncRunFinished
from prism_psa.outcomes import RunStatus
from prism_tables.outbox import stage_in
from prism_tables.sync.invoices import InvoiceSyncRun


def outcome_event(run: InvoiceSyncRun) -> DomainEvent:
    counts = {
        "customers_considered": run.customers_considered,
        "customers_synced": run.customers_synced,
        "customers_failed": run.customers_failed,
        "subscriptions_synced": run.subscriptions_synced,
        "adjustments_applied": run.adjustments_applied,
        "warnings": run.warnings,
    }
    if run.status == RunStatus.FAILURE:
        return InvoiceSyncRunFailed(
            aggregate_id=str(run.id),
            partner_id=run.partner_id,
            program_id=run.program_id,
            run_id=run.id,
            invoice_id=run.invoice_id,
            status=run.status,
            counts=counts,
            message=run.message,
        )
    return InvoiceSyncRunFinished(
        aggregate_id=str(run.id),
        partner_id=run.partner_id,
        program_id=run.program_id,
        run_id=run.id,
        invoice_id=run.invoice_id,
        status=run.status,
        counts=counts,
    )


def record_outcome(session: Session, run: InvoiceSyncRun) -> None:
    """Stage the run's outcome event in `session`'s transaction (the one that finalises it)."""
    stage_in(session, outcome_event(run))
