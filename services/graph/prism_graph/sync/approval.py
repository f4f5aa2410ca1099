"""Approving or dismissing the planned changes of an invoice sync run that waits for
approval (S5): the decision is recorded on the run's waiting jobs, with who took it, and an
`invoice_sync.decided` event in the same transaction; the syncer applies it (writing an
approved plan only if it is still current; see prism_syncer.invoices.approval)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.sync import ApprovalDecision, InvoiceSyncDecided
from prism_graph.database import Database
from prism_psa.outcomes import RunStatus
from prism_tables.sync.invoices import InvoiceSyncJob, InvoiceSyncRun

AWAITING = "AWAITING_APPROVAL"  # the job status (prism_syncer.invoices.jobs.JobStatus)
NO_SUCH_RUN = FieldError("runId", ErrorCode.NOT_FOUND, "No such invoice sync run of yours.")
NOT_WAITING = FieldError("runId", ErrorCode.NOT_ALLOWED, "This run is not waiting for approval.")
NOTHING_LEFT = FieldError(
    "runId",
    ErrorCode.NOT_ALLOWED,
    "Nothing in this run waits for a decision any more: it was all approved or dismissed.",
)
MAX_CUSTOMERS = 1000


@dataclass(frozen=True)
class Decided:
    run: InvoiceSyncRun
    customers: int  # customers whose changes the decision covered


async def decide(
    database: Database,
    partner_id: int,
    run_id: int,
    customer_ids: Sequence[int] | None,
    decision: ApprovalDecision,
    who: str,
) -> Decided | list[FieldError]:
    """Approve or dismiss the run's waiting changes: of `customer_ids`, or all of them."""
    if customer_ids is not None:
        if not customer_ids:
            return [
                FieldError(
                    "customerIds",
                    ErrorCode.REQUIRED,
                    "Name at least one customer, or leave customerIds out to decide for all.",
                )
            ]
        if len(customer_ids) > MAX_CUSTOMERS:
            return [
                FieldError(
                    "customerIds",
                    ErrorCode.TOO_LONG,
                    f"At most {MAX_CUSTOMERS} customers at a time.",
                )
            ]
    async with database.unit_of_work() as uow:
        run = await uow.session.scalar(
            select(InvoiceSyncRun).where(
                InvoiceSyncRun.id == run_id, InvoiceSyncRun.partner_id == partner_id
            )
        )
        if run is None:
            return [NO_SUCH_RUN]
        if run.status != RunStatus.AWAITING_APPROVAL:
            return [NOT_WAITING]
        waiting = (
            InvoiceSyncJob.run_id == run_id,
            InvoiceSyncJob.status == AWAITING,
            InvoiceSyncJob.decision.is_(None),
        )
        if customer_ids is not None:
            found = set(
                (
                    await uow.session.scalars(
                        select(InvoiceSyncJob.customer_id).where(
                            *waiting, InvoiceSyncJob.customer_id.in_(set(customer_ids))
                        )
                    )
                ).all()
            )
            missing = [c for c in dict.fromkeys(customer_ids) if c not in found]
            if missing:
                return [
                    FieldError(
                        "customerIds",
                        ErrorCode.NOT_FOUND,
                        f"{len(missing)} of these customers have no changes waiting for a "
                        "decision in this run.",
                    )
                ]
        stmt = (
            update(InvoiceSyncJob)
            .where(*waiting)
            .values(decision=decision.value, decided_by=who[:255], decided_at=datetime.now(UTC))
            .returning(InvoiceSyncJob.customer_id)
        )
        if customer_ids is not None:
            stmt = stmt.where(InvoiceSyncJob.customer_id.in_(set(customer_ids)))
        # Only undecided jobs change: of two admins deciding at once, the first one wins.
        decided = {int(c) for c in (await uow.session.execute(stmt)).scalars()}
        if not decided:
            return [NOTHING_LEFT]
        uow.record(
            InvoiceSyncDecided(
                aggregate_id=str(run_id),
                partner_id=partner_id,
                run_id=run_id,
                decision=decision.value,
            )
        )
        await uow.commit()
        return Decided(run, len(decided))
