"""Planning a REVERT run (S10): the jobs that put every contract service an earlier run
changed back to the units it held before that run.

The rule is checked again here, authoritatively (`prism_psa.invoices.revert.refusal`; the
API's check only gives immediate feedback): a refusal ends the REVERT run FAILURE with its
message. Otherwise the PSA's units of those contract services are read once, the units
before the run computed from them (`units_before`), and, in the one transaction that moves
the run PENDING -> RUNNING (only one planner wins, as in `planner`), one job per contract
service is written with those units as its targets and as what it is checked against. From
there the run is an ordinary one: the executor reconciles each job with what the PSA holds
at that moment and writes only what is still missing, an intent before each write, so a
redelivered request or a crashed worker never writes a compensation twice; `finalize`
records it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from prism_domain.sync import SyncTrigger
from prism_platform.db import utcnow, writer
from prism_psa.invoices.revert import (
    LandedChange,
    Refused,
    by_contract_service,
    can_retry,
    landed_changes,
    refusal,
    units_before,
)
from prism_psa.invoices.units import Reading, read_histories
from prism_psa.invoices.values import Step, Target
from prism_psa.outcomes import RunStatus
from prism_psa.port import ContractPort, PsaError, PsaUnauthorized
from prism_syncer.invoices.executor import Execution
from prism_syncer.invoices.jobs import JobStatus, targets_json
from prism_tables.sync.invoices import (
    InvoiceSyncIntent,
    InvoiceSyncJob,
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)

log = logging.getLogger(__name__)

#: The message of a REVERT run's contract service set back (no invoice line stands for it).
REVERTED = "Put back to the units it held before run #{run}."


def record_revert(session: Session, reverted: InvoiceSyncRun) -> int:
    """The REVERT run of `reverted`, recorded (PENDING) in the caller's transaction: a new
    one, or the one already recorded (a redelivered or repeated request), which is set back
    to PENDING, its records dropped, if it failed without landing anything (`can_retry`)."""
    from prism_syncer.invoices.sync import start_run  # `sync` composes this module's step

    found = session.scalar(
        select(InvoiceSyncRun).where(InvoiceSyncRun.reverts_run_id == reverted.id)
    )
    if found is None:
        return start_run(
            session,
            partner_id=reverted.partner_id,
            program_id=reverted.program_id,
            trigger=SyncTrigger.REVERT.value,
            invoice_id=reverted.invoice_id,
            reverts_run_id=reverted.id,
        ).id
    if can_retry(session, found):
        jobs = select(InvoiceSyncJob.id).where(InvoiceSyncJob.run_id == found.id)
        session.execute(delete(InvoiceSyncIntent).where(InvoiceSyncIntent.job_id.in_(jobs)))
        for table in (InvoiceSyncJob, InvoiceSyncRunItem, InvoiceSyncReconciliation):
            session.execute(delete(table).where(table.run_id == found.id))
        found.status = RunStatus.PENDING.value
        found.message = found.finished_at = None
        found.started_at = utcnow()
        found.customers_considered = found.customers_synced = found.customers_failed = 0
        found.subscriptions_synced = found.adjustments_applied = found.warnings = 0
        log.info("revert run %s: asked again after it failed; planned again", found.id)
    return found.id


class Reverting(Execution):
    """Step 2 of a REVERT run: check the rule, then plan (once: PENDING -> RUNNING)."""

    _close_run: Callable[[int, RunStatus, str], str]  # Reporting's

    def plan_revert(self, run_id: int, psa: ContractPort) -> None:
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None and run.reverts_run_id is not None
            partner_id, reverted = run.partner_id, run.reverts_run_id
            problem = refusal(session, partner_id, reverted, revert_run_id=run_id)
            changes = by_contract_service(landed_changes(session, reverted))
        if problem is not None:
            self._close_run(run_id, RunStatus.FAILURE, problem.message)
            return
        ordered = sorted(changes.items())
        wanted = [_reading(found) for _, found in ordered]
        try:
            histories = read_histories(psa, wanted)
        except PsaUnauthorized as exc:
            self._refused(partner_id, exc)
            self._close_run(run_id, RunStatus.FAILURE, str(exc))
            return
        except PsaError as exc:
            log.warning("revert run %s: the PSA could not be read (%s); will resume", run_id, exc)
            return
        planned: list[tuple[list[LandedChange], date, date, list[Step]]] = []
        for (_, found), history in zip(ordered, histories, strict=True):
            first, until, steps = units_before(
                found, units_on=history.units_on, change_dates=history.change_dates
            )
            planned.append((found, first, until, steps))
        problem = self._record_revert(run_id, partner_id, reverted, planned)
        if problem is not None:
            self._close_run(run_id, RunStatus.FAILURE, problem.message)

    def _record_revert(
        self,
        run_id: int,
        partner_id: int,
        reverted: int,
        planned: list[tuple[list[LandedChange], date, date, list[Step]]],
    ) -> Refused | None:
        """Claim the run and write its jobs, the rule checked once more in the same
        transaction (a run recorded since the first check refuses it: nothing is claimed)."""
        with Session(writer(self.engine)) as session, session.begin():
            problem = refusal(session, partner_id, reverted, revert_run_id=run_id)
            if problem is not None:
                return problem
            claimed = session.execute(
                update(InvoiceSyncRun)
                .where(InvoiceSyncRun.id == run_id, InvoiceSyncRun.status == RunStatus.PENDING)
                .values(
                    status=RunStatus.RUNNING.value,
                    customers_considered=len({found[0].customer_id for found, *_ in planned}),
                )
                .returning(InvoiceSyncRun.id)
            ).first()
            if claimed is None:
                return None  # another worker planned it
            for found, first, until, steps in planned:
                head = found[0]
                targets = [
                    Target(
                        customer_id=head.customer_id,
                        contract_ref=str(head.contract_id),
                        service_ref=str(head.service_id),
                        sku=head.sku,
                        effective=step.effective,
                        units=step.units,
                        unit_price=step.unit_price,
                        unit_cost=step.unit_cost,
                    )
                    for step in steps
                ]
                session.add(
                    InvoiceSyncJob(
                        run_id=run_id,
                        partner_id=partner_id,
                        customer_id=head.customer_id,
                        contract_id=head.contract_id,
                        service_id=head.service_id,
                        sku=head.sku,
                        until=until,
                        check_from=first,
                        expected=[
                            {"effective": s.effective.isoformat(), "units": s.units} for s in steps
                        ],
                        targets=targets_json(targets),
                        lines=[],
                        status=JobStatus.PENDING.value,
                        adjustments_applied=0,
                        attempts=0,
                    )
                )
        log.info(
            "revert run %s: planned %s contract service(s) of run %s",
            run_id,
            len(planned),
            reverted,
        )
        return None


def _reading(changes: list[LandedChange]) -> Reading:
    """The days of one contract service to read: from the run's first change to the last
    day its job planned (as `units_before` plans them)."""
    first = min(c.effective for c in changes)
    until = max(max(c.until for c in changes), max(c.effective for c in changes))
    return Reading(changes[0].contract_id, changes[0].service_id, first, until)
