"""What one job records as it goes (S10): its contract service's lease, the intent before
each PSA write, its outcome after, the job's end or its return to the queue. Each is its own
short transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from prism_domain.money import price_text
from prism_platform.db import conflict_insert, writer
from prism_psa.invoices.planning import Adjustment
from prism_psa.outcomes import ItemOutcome
from prism_psa.port import (
    ErrorCode,
    NewAdjustment,
    PsaUnauthorized,
)
from prism_syncer.invoices.jobs import (
    NOT_ATTEMPTED,
    IntentStatus,
    JobStatus,
    JobView,
    LeaseLost,
    SyncParts,
)
from prism_tables.sync.invoices import (
    ContractServiceLease,
    InvoiceSyncIntent,
    InvoiceSyncJob,
)


class JobRecords(SyncParts):
    """The records a job writes as it goes; `Execution` drives them."""

    # -- records of one job -----------------------------------------------------------------

    def _lease(
        self, session: Session, partner_id: int, contract_id: int, service_id: int, now: datetime
    ) -> bool:
        insert = conflict_insert(session.get_bind().dialect.name)
        values = insert(ContractServiceLease).values(
            partner_id=partner_id,
            contract_id=contract_id,
            service_id=service_id,
            holder=self.worker,
            expires_at=now + timedelta(seconds=self.lease_seconds),
        )
        stmt = values.on_conflict_do_update(
            index_elements=["partner_id", "contract_id", "service_id"],
            set_={"holder": values.excluded.holder, "expires_at": values.excluded.expires_at},
            where=or_(
                ContractServiceLease.expires_at < now,
                ContractServiceLease.holder == self.worker,
            ),
        ).returning(ContractServiceLease.holder)
        return session.execute(stmt).scalar_one_or_none() == self.worker

    def _intend(self, job: JobView, new: NewAdjustment) -> int:
        now = self.clock()
        with Session(writer(self.engine)) as session, session.begin():
            if not self._lease(session, *job.key, now):
                raise LeaseLost(job.id)
            # Still ours: a worker that took the job over after our lease expired (and may
            # have finished it and dropped the lease since) has made our read stale.
            ours = session.execute(
                update(InvoiceSyncJob)
                .where(
                    InvoiceSyncJob.id == job.id,
                    InvoiceSyncJob.status == JobStatus.RUNNING,
                    InvoiceSyncJob.worker == self.worker,
                    InvoiceSyncJob.attempts == job.attempts,
                )
                .values(lease_until=now + timedelta(seconds=self.lease_seconds))
                .returning(InvoiceSyncJob.id)
            ).first()
            if ours is None:
                raise LeaseLost(job.id)
            intent = InvoiceSyncIntent(
                job_id=job.id,
                contract_id=new.contract_id,
                service_id=new.service_id,
                effective_date=new.effective,
                unit_change=new.unit_change,
                unit_price=price_text(new.unit_price),
                unit_cost=price_text(new.unit_cost),
                status=IntentStatus.INTENDED.value,
            )
            session.add(intent)
            session.flush()
            return intent.id

    def _resolve(
        self,
        intent_id: int,
        status: IntentStatus,
        adjustment_id: int | None = None,
        job_id: int | None = None,
    ) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            session.execute(
                update(InvoiceSyncIntent)
                .where(InvoiceSyncIntent.id == intent_id)
                .values(status=status.value, adjustment_id=adjustment_id, resolved_at=self.clock())
            )
            if job_id is not None and status is IntentStatus.APPLIED:
                session.execute(
                    update(InvoiceSyncJob)
                    .where(InvoiceSyncJob.id == job_id)
                    .values(adjustments_applied=InvoiceSyncJob.adjustments_applied + 1)
                )

    def _resolve_uncertain(self, job: JobView, still_missing: list[Adjustment]) -> None:
        """Intents whose answer never came, judged by the PSA's units just read: a change
        still missing on its day did not happen (it is recomputed, never replayed)."""
        missing_days = {a.effective for a in still_missing}
        with Session(writer(self.engine)) as session, session.begin():
            uncertain = session.scalars(
                select(InvoiceSyncIntent).where(
                    InvoiceSyncIntent.job_id == job.id,
                    InvoiceSyncIntent.status == IntentStatus.INTENDED,
                )
            ).all()
            confirmed = 0
            for intent in uncertain:
                if intent.effective_date in missing_days:
                    intent.status = IntentStatus.NOT_APPLIED.value
                else:
                    intent.status = IntentStatus.CONFIRMED.value
                    confirmed += 1
                intent.resolved_at = self.clock()
            if confirmed:
                session.execute(
                    update(InvoiceSyncJob)
                    .where(InvoiceSyncJob.id == job.id)
                    .values(adjustments_applied=InvoiceSyncJob.adjustments_applied + confirmed)
                )

    def _finish(
        self,
        job: JobView,
        outcome: ItemOutcome | None,
        code: ErrorCode | str | None,
        message: str | None,
        contract_service_id: int | None = None,
    ) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            row = session.get(InvoiceSyncJob, job.id)
            assert row is not None
            if (row.status, row.worker, row.attempts) != (
                JobStatus.RUNNING,
                self.worker,
                job.attempts,
            ):
                return  # taken over after our lease expired: the other worker records it
            if outcome is None:
                outcome = ItemOutcome.SUCCESS if row.adjustments_applied else ItemOutcome.NO_CHANGE
            row.status = JobStatus.DONE.value
            row.outcome = outcome.value
            row.code = str(code.value if isinstance(code, ErrorCode) else code) if code else None
            row.message = message
            if contract_service_id is not None:
                row.contract_service_id = contract_service_id
            row.lease_until = None
            row.finished_at = self.clock()

    def _retry_later(self, job: JobView, reason: str) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            session.execute(
                update(InvoiceSyncJob)
                .where(
                    InvoiceSyncJob.id == job.id,
                    InvoiceSyncJob.status == JobStatus.RUNNING,
                    InvoiceSyncJob.worker == self.worker,
                )
                .values(
                    status=JobStatus.PENDING.value,
                    lease_until=None,
                    code=ErrorCode.UNAVAILABLE.value,
                    message=reason,
                )
            )

    def _unauthorized(self, jobs: list[JobView], exc: PsaUnauthorized) -> None:
        self._refused(jobs[0].partner_id, exc)
        for job in jobs:
            self._finish(job, ItemOutcome.ERROR, ErrorCode.UNAUTHORIZED, str(exc))
        # The run's other jobs would be refused the same way: not attempted (S6).
        with Session(writer(self.engine)) as session, session.begin():
            session.execute(
                update(InvoiceSyncJob)
                .where(
                    InvoiceSyncJob.run_id.in_({job.run_id for job in jobs}),
                    InvoiceSyncJob.status == JobStatus.PENDING,
                )
                .values(
                    status=JobStatus.DONE.value,
                    outcome=ItemOutcome.ERROR.value,
                    code=ErrorCode.UNAUTHORIZED.value,
                    message=NOT_ATTEMPTED.format(reason=str(exc)),
                    finished_at=self.clock(),
                )
            )

    def _refused(self, partner_id: int, exc: PsaUnauthorized) -> None:
        if self.on_unauthorized is not None:
            self.on_unauthorized(partner_id, exc)
