"""The approval gate (S5): a run that requires approval writes nothing until a partner admin
approves its planned adjustments, and then only if they are still what was shown.

With `require_approval` on in the program's settings, a run of an issued invoice is recorded
with `approval = REQUIRED`. It is planned as every run is (one job per contract service);
executing a job of it computes the adjustments from what the PSA holds, exactly as a write
would, but stores them as the job's `proposal` (with their billing effect, see
`prism_psa.invoices.preview`) and leaves the job AWAITING_APPROVAL; the run then waits in
AWAITING_APPROVAL. A job with nothing to write is done at once.

A partner admin approves or dismisses per customer or in bulk (the API records the decision
on the jobs and an `invoice_sync.decided` event). Driving the run then (`decide`):

- a dismissed job ends SKIPPED (code DISMISSED): nothing is written, the history says so;
- an approved job is planned again from the invoices as they are now: if its targets changed
  (an invoice issued or re-issued since) it is shown again with a new proposal, never written;
  otherwise it goes back to the queue, and the executor, having read the PSA, writes only if
  the adjustments it computes are the approved ones (a PSA changed by hand since makes them
  differ: shown again). Once it started writing, a crash resumes it like any job (S10).

The run is finished as every run is once no job waits any more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from prism_domain.sync import ApprovalDecision, InvoiceSyncAwaitingApproval
from prism_platform.db import writer
from prism_psa.invoices import sources
from prism_psa.invoices.inputs import contracts_of, gather, plan_of
from prism_psa.invoices.planning import Adjustment
from prism_psa.invoices.preview import ProposedAdjustment, with_amounts
from prism_psa.invoices.units import UnitHistory
from prism_psa.outcomes import ItemOutcome, RunStatus
from prism_psa.port import ContractPort, PsaError
from prism_syncer.invoices.job_records import JobRecords
from prism_syncer.invoices.jobs import JobStatus, JobView, targets_json
from prism_tables.outbox import stage_in
from prism_tables.sync.invoices import InvoiceSyncIntent, InvoiceSyncJob, InvoiceSyncRun

log = logging.getLogger(__name__)

REQUIRED = "REQUIRED"
DISMISSED = "DISMISSED"
DISMISSED_MESSAGE = "Dismissed by {who}: nothing was written to the PSA."


@dataclass
class Gate:
    """What holding a run's jobs for approval needs: the invoice's currency, and each
    contract's start (its billing periods start on that day)."""

    currency: str
    anchors: dict[int, date | None]


def proposal_of(
    adjustments: Sequence[Adjustment], history: UnitHistory, job: JobView, gate: Gate
) -> list[ProposedAdjustment]:
    return with_amounts(
        adjustments,
        history,
        until=job.until,
        anchor=gate.anchors.get(job.contract_id),
        currency=gate.currency,
    )


def same_as_approved(job: JobView, proposal: Sequence[ProposedAdjustment]) -> bool:
    """Whether the adjustments computed now are those the partner approved."""
    approved = [ProposedAdjustment.from_json(a).key for a in job.proposal or []]
    return sorted(approved) == sorted(p.key for p in proposal)


class Approval(JobRecords):
    """Holding a run's jobs for approval, and applying the decisions taken on them."""

    def gate_of(self, run_id: int) -> Gate | None:
        """The run's gate when it requires approval (anchors filled per batch)."""
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            if run is None or run.approval != REQUIRED or run.invoice_id is None:
                return None
            invoice = sources.invoice(session, run.invoice_id)
        return Gate(invoice.currency if invoice else "USD", {})

    def _hold(
        self,
        job: JobView,
        proposal: Sequence[ProposedAdjustment],
        history: UnitHistory,
        *,
        again: bool,
    ) -> None:
        """Keep the job's adjustments as its proposal, for a partner admin to decide on."""
        with Session(writer(self.engine)) as session, session.begin():
            held = session.execute(
                update(InvoiceSyncJob)
                .where(
                    InvoiceSyncJob.id == job.id,
                    InvoiceSyncJob.status == JobStatus.RUNNING,
                    InvoiceSyncJob.worker == self.worker,
                    InvoiceSyncJob.attempts == job.attempts,
                )
                .values(
                    status=JobStatus.AWAITING_APPROVAL.value,
                    proposal=[p.to_json() for p in proposal],
                    decision=None,
                    decided_by=None,
                    decided_at=None,
                    replanned=InvoiceSyncJob.replanned + (1 if again else 0),
                    contract_service_id=history.contract_service_id,
                    lease_until=None,
                    attempts=0,
                    code=None,
                    message=None,
                )
                .returning(InvoiceSyncJob.id)
            ).first()
        if held is not None and again:
            self._shown_again.add(job.run_id)

    def _started_writing(self, job: JobView) -> bool:
        with Session(self.engine) as session:
            return bool(
                session.scalar(select(func.count()).where(InvoiceSyncIntent.job_id == job.id))
            )

    # -- decisions ---------------------------------------------------------------------------

    def decide(self, run_id: int, psa: ContractPort) -> None:
        """Apply the decisions recorded on the run's waiting jobs (see the module's doc)."""
        now = self.clock()
        with Session(writer(self.engine)) as session, session.begin():
            for job in session.scalars(
                select(InvoiceSyncJob).where(
                    InvoiceSyncJob.run_id == run_id,
                    InvoiceSyncJob.status == JobStatus.AWAITING_APPROVAL,
                    InvoiceSyncJob.decision == ApprovalDecision.DISMISSED,
                )
            ):
                job.status = JobStatus.DONE.value
                job.outcome = ItemOutcome.SKIPPED.value
                job.code = DISMISSED
                job.message = DISMISSED_MESSAGE.format(who=job.decided_by or "a partner admin")
                job.finished_at = now
        with Session(self.engine) as session:
            approved = session.scalar(
                select(func.count()).where(
                    InvoiceSyncJob.run_id == run_id,
                    InvoiceSyncJob.status == JobStatus.AWAITING_APPROVAL,
                    InvoiceSyncJob.decision == ApprovalDecision.APPROVED,
                )
            )
        if not approved:
            return
        try:
            fresh = self._replanned_targets(run_id, psa)
        except PsaError as exc:
            log.warning("run %s: approvals wait, contracts unreadable (%s)", run_id, exc)
            return
        with Session(writer(self.engine)) as session, session.begin():
            for job in session.scalars(
                select(InvoiceSyncJob).where(
                    InvoiceSyncJob.run_id == run_id,
                    InvoiceSyncJob.status == JobStatus.AWAITING_APPROVAL,
                    InvoiceSyncJob.decision == ApprovalDecision.APPROVED,
                )
            ):
                job.status = JobStatus.PENDING.value
                now_planned = fresh.get((job.contract_id, job.service_id))
                if now_planned is None or now_planned[0] == job.targets:
                    continue  # still the plan (or no longer planned: the executor decides)
                # The invoices changed since it was shown: plan it again and show it again.
                job.targets, job.check_from, job.until, job.expected = now_planned
                job.decision = None
                job.proposal = None
                job.replanned += 1
                self._shown_again.add(run_id)

    def _replanned_targets(
        self, run_id: int, psa: ContractPort
    ) -> dict[tuple[int, int], tuple[list[dict[str, object]], date, date, list[dict[str, object]]]]:
        """The run planned again now: per contract service, its targets and check."""
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None and run.invoice_id is not None
            invoice = sources.invoice(session, run.invoice_id)
            assert invoice is not None
            inputs = gather(session, invoice, run.customer_id)
        plan = plan_of(inputs, contracts_of(inputs, psa.contracts_by_id(inputs.contract_ids)))
        out = {}
        for (contract_ref, service_ref), targets in plan.by_contract_service().items():
            check = plan.checks[(contract_ref, service_ref)]
            out[(int(contract_ref), int(service_ref))] = (
                targets_json(targets),
                check.start,
                check.until,
                [{"effective": s.effective.isoformat(), "units": s.units} for s in check.expected],
            )
        return out

    def settle(self, run_id: int) -> None:
        """The run waits while a job waits for a decision, and is under way otherwise; each
        time it starts waiting (or shows a plan again) it says so through the outbox."""
        with Session(writer(self.engine)) as session, session.begin():
            run = session.get(InvoiceSyncRun, run_id)
            if run is None or run.status not in (RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL):
                return
            waiting = session.scalar(
                select(func.count(func.distinct(InvoiceSyncJob.customer_id))).where(
                    InvoiceSyncJob.run_id == run_id,
                    InvoiceSyncJob.status == JobStatus.AWAITING_APPROVAL,
                )
            )
            again = run_id in self._shown_again
            self._shown_again.discard(run_id)
            if not waiting:
                if run.status == RunStatus.AWAITING_APPROVAL:
                    run.status = RunStatus.RUNNING.value
                return
            if run.status == RunStatus.RUNNING or again:
                run.status = RunStatus.AWAITING_APPROVAL.value
                event = InvoiceSyncAwaitingApproval(
                    aggregate_id=str(run.id),
                    partner_id=run.partner_id,
                    program_id=run.program_id,
                    run_id=run.id,
                    invoice_id=run.invoice_id,
                    customers=int(waiting or 0),
                )
                stage_in(session, event)
