"""Recording a run's outcome (S7, S8, S11): read the PSA back, compare every checked day
with the desired timeline, and write the items, counts, status and reconciliation once."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_domain.money import price_text
from prism_platform.db import writer
from prism_platform.metrics import count_sync_run
from prism_psa.invoices import sources
from prism_psa.invoices.timeline import Segment, compare
from prism_psa.invoices.units import UnitHistory
from prism_psa.outcomes import FINAL, ItemOutcome, RunItemKind, RunStatus
from prism_psa.port import (
    ContractPort,
    ErrorCode,
    PsaError,
)
from prism_syncer.invoices.executor import Execution
from prism_syncer.invoices.jobs import (
    DIFFERS_BEFORE,
    NOT_ON_INVOICE,
    RECONCILE_FAILED,
    JobStatus,
    check_of,
    job_view,
)
from prism_syncer.invoices.revert import REVERTED
from prism_syncer.invoices.run_events import record_outcome
from prism_syncer.invoices.status import customer_outcome, run_status
from prism_tables.sync.invoices import (
    InvoiceSyncJob,
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)

log = logging.getLogger(__name__)


class Reporting(Execution):
    """Step 4: read back, compare and record the run's outcome (once: RUNNING -> final)."""

    def finalize(self, run_id: int, psa: ContractPort | None) -> str | None:
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            if run is None or run.status in FINAL:
                return run.status if run else None
            if run.status != RunStatus.RUNNING:
                return run.status  # not planned yet
            jobs = list(
                session.scalars(
                    select(InvoiceSyncJob)
                    .where(InvoiceSyncJob.run_id == run_id)
                    .order_by(InvoiceSyncJob.id)
                ).all()
            )
            if any(job.status != JobStatus.DONE for job in jobs):
                return run.status
            invoice = sources.invoice(session, run.invoice_id) if run.invoice_id else None
            session.expunge_all()
        assert invoice is not None
        checks, differences, histories = self._reconciliation(run_id, jobs, psa)
        with Session(writer(self.engine)) as session, session.begin():
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None
            if run.status != RunStatus.RUNNING:
                return run.status
            skipped = session.scalars(
                select(InvoiceSyncRunItem).where(InvoiceSyncRunItem.run_id == run_id)
            ).all()
            names = sources.customer_names(
                session, {job.customer_id for job in jobs} | {i.customer_id for i in skipped}
            )
            items = list(skipped)
            note = REVERTED.format(run=run.reverts_run_id) if run.reverts_run_id else NOT_ON_INVOICE
            cs_of = {(c.contract_id, c.sku): c.contract_service_id for c in checks}
            for job in jobs:
                contract_service_id = job.contract_service_id or cs_of.get(
                    (job.contract_id, job.sku)
                )
                # A usage line is not sent as billed: show what the PSA holds instead.
                received = job.outcome != ItemOutcome.SKIPPED and any(
                    t.get("usage") for t in job.targets
                )
                for line in job.lines:
                    if received:
                        line = line | _as_received(line, job, histories)
                    item = InvoiceSyncRunItem(
                        run_id=run_id,
                        customer_id=job.customer_id,
                        customer_name=names.get(job.customer_id, "")[:255],
                        subscription_id=line.get("subscription_id"),
                        sku=job.sku,
                        period_start=date.fromisoformat(line["period_start"]),
                        period_end=date.fromisoformat(line["period_end"]),
                        quantity=line["quantity"],
                        unit_cost=line["unit_cost"],
                        unit_price=line["unit_price"],
                        contract_id=job.contract_id,
                        contract_service_id=contract_service_id,
                        outcome=job.outcome or ItemOutcome.ERROR.value,
                        code=job.code
                        if job.outcome in (ItemOutcome.ERROR, ItemOutcome.SKIPPED)
                        else None,
                        message=job.message,
                    )
                    session.add(item)
                    items.append(item)
                extra = _job_item(job, differences.get(job.id, []), invoice, note)
                if extra is not None:
                    extra.run_id = run_id
                    extra.customer_name = names.get(job.customer_id, "")[:255]
                    extra.contract_service_id = contract_service_id
                    session.add(extra)
                    items.append(extra)
            session.add_all(checks)
            self._summarise(session, run, jobs, items, names)
            record_outcome(session, run)
            count_sync_run(session, "invoice", run.status)
            if run.status == RunStatus.FAILURE and self.notify_failure is not None:
                self.notify_failure(session, run)
            return run.status

    def _summarise(
        self,
        session: Session,
        run: InvoiceSyncRun,
        jobs: list[InvoiceSyncJob],
        items: list[InvoiceSyncRunItem],
        names: dict[int, str],
    ) -> None:
        by_customer: dict[int, list[str]] = defaultdict(list)
        for item in items:
            by_customer[item.customer_id].append(item.outcome)
        failed = synced = 0
        for customer_id, outcomes in sorted(by_customer.items()):
            outcome = customer_outcome(outcomes)
            if outcome is ItemOutcome.ERROR:
                failed += 1
            elif outcome is not ItemOutcome.SKIPPED:
                synced += 1
            errors = [
                i.message
                for i in items
                if i.customer_id == customer_id and i.message and i.outcome == ItemOutcome.ERROR
            ]
            message = errors[0] if outcome is ItemOutcome.ERROR and errors else None
            code = None
            if outcome is ItemOutcome.SKIPPED:
                # One reason for all of it (e.g. its changes were dismissed): the customer's.
                mine = [i for i in items if i.customer_id == customer_id]
                if len({i.code for i in mine}) == 1 and mine[0].code:
                    code, message = mine[0].code, mine[0].message
            session.add(
                InvoiceSyncRunItem(
                    run_id=run.id,
                    kind=RunItemKind.CUSTOMER.value,
                    customer_id=customer_id,
                    customer_name=names.get(customer_id, "")[:255],
                    outcome=outcome.value,
                    code=code,
                    message=message,
                )
            )
        run.customers_considered = max(run.customers_considered, len(by_customer))
        run.customers_synced = synced
        run.customers_failed = failed
        run.subscriptions_synced = sum(
            1 for i in items if i.outcome == ItemOutcome.SUCCESS and i.subscription_id is not None
        )
        run.adjustments_applied = sum(job.adjustments_applied for job in jobs)
        run.warnings = sum(1 for i in items if i.outcome == ItemOutcome.WARNING)
        status = run_status(
            customers_failed=failed, warnings=run.warnings, adjustments=run.adjustments_applied
        )
        if status is RunStatus.FAILURE:
            run.message = run.message or f"{failed} customer(s) failed to sync."
        run.status = status.value
        run.finished_at = self.clock()

    def _reconciliation(
        self,
        run_id: int,
        jobs: list[InvoiceSyncJob],
        psa: ContractPort | None,
    ) -> tuple[list[InvoiceSyncReconciliation], dict[int, list[Segment]], dict[int, UnitHistory]]:
        """The desired units vs the PSA's on every day each contract service is checked for
        (from the first day Prism synced it to the end of the latest invoice), read back from
        the PSA after the writes (S7, S11): one row per stretch of days where neither changes,
        and per job the stretches that differ. The PSA's side is unknown (None) if it cannot
        be read, which is a difference too. Also the histories read, by job."""
        checked = [job for job in jobs if job.outcome != ItemOutcome.SKIPPED]
        histories = {j.id: self._unchanged[j.id] for j in checked if j.id in self._unchanged}
        to_read = [job for job in checked if job.id not in histories]
        if psa is not None and to_read:
            try:
                histories |= self._read(psa, [job_view(j) for j in to_read])
            except PsaError as exc:
                log.warning("run %s: reconciliation unreadable (%s)", run_id, exc)
        rows: list[InvoiceSyncReconciliation] = []
        differences: dict[int, list[Segment]] = {}
        for job in checked:
            history = histories.get(job.id)
            segments = compare(
                check_of(job),
                units_on=history.units_on if history is not None else None,
                change_dates=history.change_dates if history is not None else lambda a, b: [],
            )
            differences[job.id] = [seg for seg in segments if not seg.matches]
            for seg in segments:
                rows.append(
                    InvoiceSyncReconciliation(
                        run_id=run_id,
                        customer_id=job.customer_id,
                        sku=job.sku,
                        contract_id=job.contract_id,
                        contract_service_id=(
                            history.contract_service_id if history else job.contract_service_id
                        ),
                        as_of=seg.start,
                        invoice_units=seg.expected,
                        psa_units=seg.actual,
                        matches=seg.matches,
                    )
                )
        return rows, differences, histories

    def _close_run(self, run_id: int, status: RunStatus, message: str) -> str:
        with Session(writer(self.engine)) as session, session.begin():
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None
            if run.status in FINAL:
                return run.status
            run.status = status.value
            run.message = message
            run.finished_at = self.clock()
            record_outcome(session, run)
            count_sync_run(session, "invoice", run.status)
            if status is RunStatus.FAILURE and self.notify_failure is not None:
                self.notify_failure(session, run)
            return run.status


def _as_received(
    line: dict[str, Any], job: InvoiceSyncJob, histories: dict[int, UnitHistory]
) -> dict[str, Any]:
    """A usage line as the PSA holds it, read back after the run: not the invoice's metered
    quantity and rate but the units and prices of the contract service's row in force on the
    line's first day (one unit at the month's usage amount, S5). Unknown (None) when the PSA
    could not be read back; no row there: 0 units at no price."""
    history = histories.get(job.id)
    if history is None:
        return {"quantity": None, "unit_price": None, "unit_cost": None}
    row = history.row_on(date.fromisoformat(line["period_start"]))
    if row is None:
        return {"quantity": "0", "unit_price": None, "unit_cost": None}
    return {
        "quantity": str(row.units),
        "unit_price": price_text(row.unit_price) if row.unit_price is not None else None,
        "unit_cost": price_text(row.unit_cost) if row.unit_cost is not None else None,
    }


def describe(segments: list[Segment], limit: int = 3) -> str:
    """'2026-04-13 to 2026-04-14: 2 units (the invoices say 0)', the first few stretches."""
    parts = []
    for seg in segments[:limit]:
        days = seg.start.isoformat() if seg.start == seg.end else f"{seg.start} to {seg.end}"
        held = "unreadable" if seg.actual is None else f"{seg.actual} units"
        parts.append(f"{days}: {held} (the invoices say {seg.expected})")
    more = f"; and {len(segments) - limit} more" if len(segments) > limit else ""
    return "; ".join(parts) + more


def _job_item(
    job: InvoiceSyncJob,
    differences: list[Segment],
    invoice: sources.IssuedInvoice,
    note: str = NOT_ON_INVOICE,
) -> InvoiceSyncRunItem | None:
    """The item a job adds beside its lines: the days the PSA still differs on, or a product
    with no line on this invoice whose contract service was set to what the invoices say
    (`note`: a REVERT run's, set back to the units before the reverted run)."""
    base = {
        "customer_id": job.customer_id,
        "sku": job.sku,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "contract_id": job.contract_id,
    }
    if differences and job.outcome != ItemOutcome.ERROR:
        in_window = [seg for seg in differences if seg.end >= invoice.period_start]
        if in_window:
            return InvoiceSyncRunItem(
                **base,
                outcome=ItemOutcome.ERROR.value,
                code=ErrorCode.NOT_RECONCILED.value,
                message=RECONCILE_FAILED.format(days=describe(in_window)),
            )
        return InvoiceSyncRunItem(
            **base,
            outcome=ItemOutcome.WARNING.value,
            code=ErrorCode.NOT_RECONCILED.value,
            message=DIFFERS_BEFORE.format(days=describe(differences)),
        )
    if not job.lines and job.outcome in (ItemOutcome.SUCCESS, ItemOutcome.ERROR):
        return InvoiceSyncRunItem(
            **base,
            quantity="0",
            outcome=job.outcome,
            code=job.code if job.outcome == ItemOutcome.ERROR else None,
            message=job.message or note,
        )
    return None
