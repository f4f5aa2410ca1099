"""Executing a run's jobs (S9, S10): claim them under contract-service leases, read the PSA
in batches, reconcile each contract service with its targets and write the adjustments,
an intent before each."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from prism_platform.db import writer
from prism_psa.invoices import sources
from prism_psa.invoices.planning import reconcile
from prism_psa.invoices.units import (
    Reading,
    UnitHistory,
    ordered_for_writing,
    read_histories,
)
from prism_psa.outcomes import ItemOutcome
from prism_psa.port import (
    ContractPort,
    ErrorCode,
    NewAdjustment,
    PsaError,
    PsaUnauthorized,
    PsaUnavailable,
)
from prism_syncer.invoices.approval import Approval, Gate, proposal_of, same_as_approved
from prism_syncer.invoices.jobs import (
    GAVE_UP,
    MAX_ATTEMPTS,
    MAX_ROUNDS,
    SYNC_TURNED_OFF,
    IntentStatus,
    JobStatus,
    JobView,
    LeaseLost,
    job_view,
    targets_of,
)
from prism_tables.sync.invoices import (
    ContractServiceLease,
    InvoiceSyncJob,
    InvoiceSyncRun,
)

log = logging.getLogger(__name__)


class Execution(Approval):
    """Step 3: claim the run's jobs, read the PSA, reconcile and write."""

    def execute(
        self,
        run_id: int,
        psa: ContractPort,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> set[tuple[int, int, int]]:
        """Work the run's jobs in batches until none can be claimed; the keys it held.

        `on_progress(done, total)`: the run's jobs (one per contract service) done, counted
        again after each job this worker works on (only when given: one query each)."""
        touched: set[tuple[int, int, int]] = set()
        tried: set[int] = set()  # a job put back (PSA unavailable) waits for a later drive
        gate = self.gate_of(run_id)  # the run requires approval: hold, or check, its writes

        def progress() -> None:
            if on_progress is not None:
                on_progress(*self._jobs_done(run_id))

        progress()
        while True:
            batch = self._claim(run_id, tried)
            if not batch:
                progress()
                return touched
            touched |= {job.key for job in batch}
            tried |= {job.id for job in batch}
            try:
                self._work(batch, psa, progress, gate)
            finally:
                self._release([job.key for job in batch])

    def _claim(self, run_id: int, tried: set[int]) -> list[JobView]:
        now = self.clock()
        with Session(writer(self.engine)) as session, session.begin():
            stmt = (
                select(InvoiceSyncJob)
                .where(
                    InvoiceSyncJob.run_id == run_id,
                    or_(
                        InvoiceSyncJob.status == JobStatus.PENDING,
                        and_(
                            InvoiceSyncJob.status == JobStatus.RUNNING,
                            InvoiceSyncJob.lease_until < now,
                        ),
                    ),
                )
                .order_by(InvoiceSyncJob.id)
                .limit(self.batch_size)
            )
            if tried:
                stmt = stmt.where(InvoiceSyncJob.id.not_in(tried))
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            claimed: list[JobView] = []
            for job in session.scalars(stmt).all():
                if job.attempts >= MAX_ATTEMPTS:
                    job.status = JobStatus.DONE.value
                    job.outcome = ItemOutcome.ERROR.value
                    job.code = job.code or ErrorCode.UNEXPECTED.value
                    job.message = GAVE_UP.format(n=job.attempts, reason=job.message or "")
                    job.finished_at = now
                    continue
                if not self._lease(session, job.partner_id, job.contract_id, job.service_id, now):
                    continue  # another worker is on this contract service; it hands over
                job.status = JobStatus.RUNNING.value
                job.worker = self.worker
                job.lease_until = now + timedelta(seconds=self.lease_seconds)
                job.attempts += 1
                claimed.append(job_view(job))
            return claimed

    def _release(self, keys: Iterable[tuple[int, int, int]]) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            for partner_id, contract_id, service_id in keys:
                session.execute(
                    delete(ContractServiceLease).where(
                        ContractServiceLease.partner_id == partner_id,
                        ContractServiceLease.contract_id == contract_id,
                        ContractServiceLease.service_id == service_id,
                        ContractServiceLease.holder == self.worker,
                    )
                )

    def _jobs_done(self, run_id: int) -> tuple[int, int]:
        with Session(self.engine) as session:
            done, total = session.execute(
                select(
                    func.count(case((InvoiceSyncJob.status == JobStatus.DONE, 1))), func.count()
                ).where(InvoiceSyncJob.run_id == run_id)
            ).one()
        return int(done), int(total)

    def _waiting_runs(self, keys: set[tuple[int, int, int]], exclude: set[int]) -> list[int]:
        if not keys:
            return []
        with Session(self.engine) as session:
            rows = session.execute(
                select(
                    InvoiceSyncJob.run_id,
                    InvoiceSyncJob.partner_id,
                    InvoiceSyncJob.contract_id,
                    InvoiceSyncJob.service_id,
                )
                .where(
                    InvoiceSyncJob.status == JobStatus.PENDING,
                    InvoiceSyncJob.contract_id.in_({k[1] for k in keys}),
                )
                .order_by(InvoiceSyncJob.run_id)
            ).all()
        return sorted({r[0] for r in rows if (r[1], r[2], r[3]) in keys and r[0] not in exclude})

    def _still_synced(self, batch: list[JobView]) -> set[int]:
        """Jobs whose customer and program still have sync on (S9: off at any time)."""
        with Session(self.engine) as session:
            ok: set[int] = set()
            read: dict[int, tuple[Any, dict[int, Any]]] = {}  # run -> (settings, mappings)
            for job in batch:
                if job.run_id not in read:
                    run = session.get(InvoiceSyncRun, job.run_id)
                    assert run is not None
                    read[job.run_id] = (
                        sources.settings_of(session, run.partner_id, run.program_id),
                        sources.mappings(session, run.partner_id, run.program_id),
                    )
                settings, maps = read[job.run_id]
                mapping = maps.get(job.customer_id)
                if (
                    settings is not None
                    and settings.sync_enabled
                    and mapping is not None
                    and mapping.sync_enabled
                    and mapping.contract_id == job.contract_id
                ):
                    ok.add(job.id)
            return ok

    def _work(
        self,
        batch: list[JobView],
        psa: ContractPort,
        job_done: Callable[[], None] = lambda: None,
        gate: Gate | None = None,
    ) -> None:
        enabled = self._still_synced(batch)
        for job in batch:
            if job.id not in enabled:
                self._finish(job, ItemOutcome.SKIPPED, None, SYNC_TURNED_OFF)
        if len(enabled) < len(batch):
            job_done()
        batch = [job for job in batch if job.id in enabled]
        if not batch:
            return
        try:
            if gate is not None:
                found = psa.contracts_by_id({job.contract_id for job in batch})
                gate.anchors.update({i: c.start for i, c in found.items()})
            histories = self._read(psa, batch)
        except PsaUnauthorized as exc:
            self._unauthorized(batch, exc)
            return
        except PsaError as exc:
            for job in batch:
                self._retry_later(job, str(exc))
            return
        for i, job in enumerate(batch):
            try:
                self._run_job(job, psa, histories[job.id], gate)
            except PsaUnauthorized as exc:
                self._unauthorized(batch[i:], exc)
                return
            except LeaseLost:
                log.warning("job %s: lease lost to another worker; left to it", job.id)
            job_done()

    def _read(self, psa: ContractPort, jobs: list[JobView]) -> dict[int, UnitHistory]:
        """Two batched reads for the whole batch: contract services, then unit rows (N3)."""
        wanted = [Reading(j.contract_id, j.service_id, j.read_from, j.until) for j in jobs]
        return {job.id: h for job, h in zip(jobs, read_histories(psa, wanted), strict=True)}

    def _run_job(
        self, job: JobView, psa: ContractPort, history: UnitHistory, gate: Gate | None = None
    ) -> None:
        targets = targets_of(job)
        for attempt in range(MAX_ROUNDS):
            adjustments = reconcile(
                targets,
                units_on=history.units_on,
                change_dates=history.change_dates,
                until=job.until,
            )
            self._resolve_uncertain(job, adjustments)
            if gate is not None and attempt == 0 and adjustments:
                # Approval: no write before a decision, and only the adjustments approved.
                if job.decision is None:
                    proposal = proposal_of(adjustments, history, job, gate)
                    self._hold(job, proposal, history, again=False)
                    return
                if not self._started_writing(job):
                    proposal = proposal_of(adjustments, history, job, gate)
                    if not same_as_approved(job, proposal):
                        self._hold(job, proposal, history, again=True)
                        return
            if not adjustments:
                self._unchanged[job.id] = history
                self._finish(job, None, None, None, history.contract_service_id)
                return
            lost = False
            for adjustment in ordered_for_writing(adjustments):
                new = NewAdjustment(
                    contract_id=job.contract_id,
                    service_id=job.service_id,
                    contract_service_id=history.contract_service_id,
                    effective=adjustment.effective,
                    unit_change=adjustment.unit_change,
                    unit_price=adjustment.unit_price,
                    unit_cost=adjustment.unit_cost,
                )
                if self.hooks.before_intent:
                    self.hooks.before_intent(new)
                intent_id = self._intend(job, new)
                if self.hooks.before_write:
                    self.hooks.before_write(new)
                try:
                    adjustment_id = psa.create_adjustment(new)
                except PsaUnavailable as exc:
                    log.warning(
                        "job %s: answer lost (%s); re-reading before anything else", job.id, exc
                    )
                    lost = True
                    break
                except PsaUnauthorized:
                    self._resolve(intent_id, IntentStatus.REFUSED)
                    raise
                except PsaError as exc:
                    self._resolve(intent_id, IntentStatus.REFUSED)
                    self._finish(job, ItemOutcome.ERROR, exc.code, str(exc))
                    return
                if self.hooks.after_write:
                    self.hooks.after_write(new)
                self._resolve(intent_id, IntentStatus.APPLIED, adjustment_id, job.id)
            if not lost:
                # Read back only to learn a contract service the first adjustment added.
                self._finish(job, None, None, None, history.contract_service_id)
                return
            try:
                history = self._read(psa, [job])[job.id]
            except PsaUnauthorized:
                raise
            except PsaError as exc:
                self._retry_later(job, str(exc))
                return
        self._retry_later(job, "The PSA kept losing its answers.")
