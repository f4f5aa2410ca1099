"""Invoice sync: plan a run into per-contract-service jobs, execute them under leases with
recorded intents, then record the outcome (S5-S7, S9, S10).

Why not inside the event's transaction: neither PSA (Autotask, ConnectWise) has idempotency
keys and an adjustment is a delta, so a PSA write can never be rolled back with the
database. Instead:

1. The handler records the run (PENDING) in the inbox transaction: exactly once per event.
2. `plan` reads the invoice, mappings and contracts and, in one transaction that moves the
   run PENDING -> RUNNING (only one planner wins), writes the skipped lines' items and one
   job per contract service with its targets. A REVERT run is planned by `plan_revert`
   (`revert`): its targets are the units before the run it reverts.
3. `execute` claims jobs (a contract-service lease each, so one worker at a time per
   contract service across processes), reads the PSA's contract services and units of the
   claimed jobs' contracts in batched queries, and computes the adjustments with
   `planning.reconcile` from what the PSA holds *now*. Before each adjustment it commits an
   intent; after the answer it commits the outcome. A lost answer (timeout, 502) or a crash
   leaves the intent INTENDED: the next attempt re-reads the PSA and recomputes, so only
   what is still missing is written (never a replay of the lost delta).
4. `finalize` runs when every job is done: the items, counts, status and reconciliation
   rows are written in one transaction that moves the run RUNNING -> final (only once),
   with the failure notice (S8) when the run failed.

Any step can be repeated by any worker (`drive`); `recovery.resume` drives runs a crash left
PENDING or RUNNING.

One module per step: `planner.Planning` (2), `executor.Execution` with the records one job
writes in `job_records.JobRecords` (3), `report.Reporting` (4); their shared vocabulary,
the job as a worker holds it and the PSA's unit history in `jobs`; the run-status decision,
pure, in `status`. `InvoiceSync` here composes them and drives a run through them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_domain.sync import SyncTrigger
from prism_platform.logging import log_context
from prism_psa.invoices.units import UnitHistory
from prism_psa.invoices.values import MESSAGES
from prism_psa.outcomes import FINAL, RunStatus
from prism_psa.port import (
    ContractPort,
    PsaUnauthorized,
)
from prism_syncer.invoices.approval import REQUIRED
from prism_syncer.invoices.jobs import (
    DEFAULT_BATCH,
    DEFAULT_LEASE_SECONDS,
    NO_INVOICE,
    Hooks,
    SyncRefused,
)
from prism_syncer.invoices.planner import Planning
from prism_syncer.invoices.report import Reporting
from prism_syncer.invoices.revert import Reverting
from prism_tables.sync.invoices import (
    InvoiceSyncRun,
)


@dataclass
class InvoiceSync(Planning, Reverting, Reporting):
    """Drives invoice sync runs; any number of these may run at once, in any processes."""

    engine: Engine
    #: (partner, program) -> the port of the PSA the program syncs to; raises SyncRefused.
    open_psa: Callable[[int, int], ContractPort]
    on_unauthorized: Callable[[int, PsaUnauthorized], None] | None = None
    notify_failure: Callable[[Session, InvoiceSyncRun], None] | None = None
    worker: str = field(default_factory=lambda: uuid.uuid4().hex)
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    batch_size: int = DEFAULT_BATCH
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    hooks: Hooks = field(default_factory=Hooks)
    #: Unit histories that needed no write, reused for the reconciliation (no second read).
    _unchanged: dict[int, UnitHistory] = field(default_factory=dict, init=False, repr=False)
    _shown_again: set[int] = field(default_factory=set, init=False, repr=False)

    # -- driving -----------------------------------------------------------------------------

    def drive(
        self,
        run_id: int,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        _seen: set[int] | None = None,
    ) -> str | None:
        """Take a run as far as it can go now; its status afterwards (None: no such run).

        `on_progress(done, total)` hears of this run's jobs done (see `execute`)."""
        with log_context(run_id=f"invoice:{run_id}"):
            return self._drive(run_id, on_progress, _seen)

    def _drive(
        self,
        run_id: int,
        on_progress: Callable[[int, int], None] | None,
        _seen: set[int] | None,
    ) -> str | None:
        seen = _seen if _seen is not None else set()
        seen.add(run_id)
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            if run is None:
                return None
            if run.status in FINAL:
                return run.status
            partner_id, status, invoice_id = run.partner_id, run.status, run.invoice_id
            program_id = run.program_id
            reverting = run.trigger == SyncTrigger.REVERT
        if invoice_id is None and status == RunStatus.PENDING:
            return self._close_run(run_id, RunStatus.NO_CHANGE, NO_INVOICE)
        try:
            psa = self.open_psa(partner_id, program_id)
        except SyncRefused as exc:
            return self._close_run(run_id, RunStatus.FAILURE, str(exc))
        touched: set[tuple[int, int, int]] = set()
        try:
            if status == RunStatus.PENDING:
                (self.plan_revert if reverting else self.plan)(run_id, psa)
            elif status == RunStatus.AWAITING_APPROVAL:
                self.decide(run_id, psa)
            touched = self.execute(run_id, psa, on_progress)
            self.settle(run_id)
            result = self.finalize(run_id, psa)
        finally:
            psa.close()
        # Jobs of other runs that waited for a contract service this worker held (S10).
        for other in self._waiting_runs(touched, exclude=seen):
            self.drive(other, _seen=seen)
        return result

    # -- 2. planning -------------------------------------------------------------------------


def start_run(
    session: Session,
    *,
    partner_id: int,
    program_id: int,
    trigger: str,
    invoice_id: int | None,
    customer_id: int | None = None,
    approval: bool = False,
    reverts_run_id: int | None = None,
) -> InvoiceSyncRun:
    """Record a run (PENDING) in the caller's transaction; `InvoiceSync.drive` does the rest.

    `approval`: the run writes nothing until a partner admin approves it. A REVERT run names
    the run it reverts (`reverts_run_id`; see `invoices.revert`)."""
    run = InvoiceSyncRun(
        partner_id=partner_id,
        program_id=program_id,
        invoice_id=invoice_id,
        customer_id=customer_id,
        reverts_run_id=reverts_run_id,
        trigger=trigger,
        status=RunStatus.PENDING.value,
        customers_considered=0,
        customers_synced=0,
        customers_failed=0,
        subscriptions_synced=0,
        adjustments_applied=0,
        warnings=0,
        approval=REQUIRED if approval else None,
    )
    session.add(run)
    session.flush()
    return run


__all__ = ["MESSAGES", "Hooks", "InvoiceSync", "RunStatus", "SyncRefused", "start_run"]
