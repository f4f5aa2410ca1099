"""Reverting an invoice sync run (S10): which runs may be reverted, what a run changed, and
the units each contract service held before it. Read-only and PSA-neutral: the API checks
the rule for immediate feedback, the syncer checks it again (authoritatively) when it plans
the REVERT run, and plans from the same values.

The rule (docs/psa-sync.md, "Reverting a run"): a run can be reverted when it has finished,
landed at least one adjustment in the PSA, is not itself a revert and was not reverted yet
(a revert that failed without landing anything does not count: `can_retry`),
and no run started after it landed adjustments on any of the same contract services (those
are reverted first, newest first), no run is under way on them, and sync is on for the
program and for every customer it changed, with the same contract (S9).

What "before the run" means, per contract service: the PSA's units now, minus the unit
changes the run landed that are in force on each day (a change is in force from its
effective date on). So a hand edit made in the PSA after the run is kept, and every day
ends as it was before the run (a day can never hold fewer than 0 units).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_domain.errors import ErrorCode
from prism_domain.sync import SyncTrigger
from prism_psa.invoices import sources
from prism_psa.invoices.values import Step
from prism_psa.outcomes import FINAL, RunStatus
from prism_tables.sync.invoices import InvoiceSyncIntent, InvoiceSyncJob, InvoiceSyncRun

#: Intent statuses of an adjustment that reached the PSA (the syncer's `IntentStatus`).
LANDED = ("APPLIED", "CONFIRMED")

NO_SUCH_RUN = "No such invoice sync run of yours."
IS_A_REVERT = "Run #{run} is itself a revert: it cannot be reverted; sync the invoice again."
NOT_FINISHED = "Run #{run} is still under way: revert it once it has finished."
ALREADY_REVERTED = "Run #{run} was already reverted by run #{by}."
WROTE_NOTHING = "Run #{run} changed nothing in {psa}: there is nothing to revert."
LATER_RUNS = (
    "Later runs changed the same {psa} contract services after run #{run}: {runs}. "
    "Revert {them} first, newest first."
)
SYNC_OFF = (
    "Sync is off for this program: turn it on in the program's sync settings to revert run #{run}."
)
CUSTOMER_OFF = (
    "Sync is off, or the mapping changed, for customer(s) run #{run} changed ({customers}): "
    "turn their sync on again with the same contract to revert it."
)
BUSY = (
    "Run #{busy} is under way on the same {psa} contract services: revert run #{run} "
    "once it has finished."
)


@dataclass(frozen=True)
class Refused:
    """Why a run cannot be reverted now: the API's error code and the words to show."""

    code: ErrorCode
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class LandedChange:
    """One adjustment a run landed in the PSA, with the job (contract service) it was for."""

    customer_id: int
    sku: str
    contract_id: int
    service_id: int
    effective: date
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal
    until: date  # the last day the run's job planned and checked

    @property
    def key(self) -> tuple[int, int]:
        return (self.contract_id, self.service_id)


def landed_changes(session: Session, run_id: int) -> list[LandedChange]:
    """Every adjustment the run landed in the PSA, in the order it was written."""
    rows = session.execute(
        select(InvoiceSyncIntent, InvoiceSyncJob)
        .join(InvoiceSyncJob, InvoiceSyncJob.id == InvoiceSyncIntent.job_id)
        .where(InvoiceSyncJob.run_id == run_id, InvoiceSyncIntent.status.in_(LANDED))
        .order_by(InvoiceSyncIntent.id)
    ).all()
    return [
        LandedChange(
            customer_id=job.customer_id,
            sku=job.sku,
            contract_id=intent.contract_id,
            service_id=intent.service_id,
            effective=intent.effective_date,
            unit_change=intent.unit_change,
            unit_price=Decimal(intent.unit_price),
            unit_cost=Decimal(intent.unit_cost),
            until=job.until,
        )
        for intent, job in rows
    ]


def by_contract_service(
    changes: Iterable[LandedChange],
) -> dict[tuple[int, int], list[LandedChange]]:
    groups: dict[tuple[int, int], list[LandedChange]] = defaultdict(list)
    for change in changes:
        groups[change.key].append(change)
    return dict(groups)


def refusal(
    session: Session, partner_id: int, run_id: int, *, revert_run_id: int | None = None
) -> Refused | None:
    """Why the partner's run cannot be reverted now (None: it can). `revert_run_id`: the
    REVERT run asking (the syncer's check), which neither blocks nor counts as a revert."""
    run = session.get(InvoiceSyncRun, run_id)
    if run is None or run.partner_id != partner_id:
        return Refused(ErrorCode.NOT_FOUND, NO_SUCH_RUN)
    if run.trigger == SyncTrigger.REVERT:
        return Refused(ErrorCode.NOT_ALLOWED, IS_A_REVERT.format(run=run.id))
    if run.status not in FINAL:
        return Refused(ErrorCode.CONFLICT, NOT_FINISHED.format(run=run.id))
    by = session.scalar(
        select(InvoiceSyncRun).where(
            InvoiceSyncRun.reverts_run_id == run.id,
            InvoiceSyncRun.id != (revert_run_id or 0),
        )
    )
    if by is not None and not can_retry(session, by):
        return Refused(ErrorCode.ALREADY_USED, ALREADY_REVERTED.format(run=run.id, by=by.id))
    changes = landed_changes(session, run.id)
    keys = {change.key for change in changes}
    psa = sources.program_psa(session, run.partner_id, run.program_id).label
    if not keys:
        return Refused(ErrorCode.NOT_ALLOWED, WROTE_NOTHING.format(run=run.id, psa=psa))
    off = _sync_off(session, run, changes)
    if off is not None:
        return off
    later = session.execute(
        select(InvoiceSyncJob.run_id, InvoiceSyncJob.contract_id, InvoiceSyncJob.service_id)
        .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncJob.run_id)
        .where(
            InvoiceSyncRun.partner_id == partner_id,
            InvoiceSyncRun.id > run.id,
            InvoiceSyncRun.id != (revert_run_id or 0),
            InvoiceSyncJob.contract_id.in_({c for c, _ in keys}),
            InvoiceSyncJob.id.in_(
                select(InvoiceSyncIntent.job_id).where(InvoiceSyncIntent.status.in_(LANDED))
            ),
        )
    ).all()
    newer = sorted({r for r, c, s in later if (c, s) in keys}, reverse=True)
    if newer:
        runs = ", ".join(f"#{n}" for n in newer)
        them = "it" if len(newer) == 1 else "them"
        return Refused(
            ErrorCode.CONFLICT, LATER_RUNS.format(run=run.id, runs=runs, them=them, psa=psa)
        )
    busy = _busy(session, partner_id, run, keys, revert_run_id)
    if busy is not None:
        return Refused(ErrorCode.CONFLICT, BUSY.format(busy=busy, run=run.id, psa=psa))
    return None


def can_retry(session: Session, revert: InvoiceSyncRun) -> bool:
    """A REVERT run that failed without landing anything (refused when planned, or every
    write refused) does not count as the revert of its run: asking again plans it again."""
    if revert.status != RunStatus.FAILURE:
        return False
    return not session.scalar(
        select(InvoiceSyncIntent.id)
        .join(InvoiceSyncJob, InvoiceSyncJob.id == InvoiceSyncIntent.job_id)
        .where(InvoiceSyncJob.run_id == revert.id, InvoiceSyncIntent.status.in_(LANDED))
        .limit(1)
    )


def _sync_off(session: Session, run: InvoiceSyncRun, changes: list[LandedChange]) -> Refused | None:
    """S9: Prism writes only where sync is on; a revert the executor would skip in part is
    refused whole instead (its run would count as the revert)."""
    settings = sources.settings_of(session, run.partner_id, run.program_id)
    if settings is None or not settings.sync_enabled:
        return Refused(ErrorCode.NOT_ALLOWED, SYNC_OFF.format(run=run.id))
    maps = sources.mappings(session, run.partner_id, run.program_id)
    off = sorted(
        {
            c.customer_id
            for c in changes
            if (m := maps.get(c.customer_id)) is None
            or not m.sync_enabled
            or m.contract_id != c.contract_id
        }
    )
    if off:
        names = sources.customer_names(session, off)
        shown = ", ".join(names.get(c) or f"#{c}" for c in off)
        return Refused(ErrorCode.NOT_ALLOWED, CUSTOMER_OFF.format(run=run.id, customers=shown))
    return None


def _busy(
    session: Session,
    partner_id: int,
    run: InvoiceSyncRun,
    keys: set[tuple[int, int]],
    revert_run_id: int | None,
) -> int | None:
    """A run under way that may write to those contract services: one with a job on them,
    or one of the program not planned yet (what it will touch is not known)."""
    under_way = (
        RunStatus.PENDING.value,
        RunStatus.RUNNING.value,
        RunStatus.AWAITING_APPROVAL.value,  # approved, it would write to them
    )
    others = InvoiceSyncRun.id.not_in([run.id, revert_run_id or 0])
    rows = session.execute(
        select(InvoiceSyncJob.run_id, InvoiceSyncJob.contract_id, InvoiceSyncJob.service_id)
        .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncJob.run_id)
        .where(
            InvoiceSyncRun.partner_id == partner_id,
            InvoiceSyncRun.status.in_(under_way),
            others,
            InvoiceSyncJob.contract_id.in_({c for c, _ in keys}),
        )
    ).all()
    found = sorted({r for r, c, s in rows if (c, s) in keys})
    if found:
        return found[0]
    unplanned = session.scalar(
        select(InvoiceSyncRun.id)
        .where(
            InvoiceSyncRun.partner_id == partner_id,
            InvoiceSyncRun.program_id == run.program_id,
            InvoiceSyncRun.status == RunStatus.PENDING.value,
            others,
            ~InvoiceSyncRun.id.in_(select(InvoiceSyncJob.run_id)),
            # a revert of an older run is refused at its own planning: it never blocks
            InvoiceSyncRun.trigger != SyncTrigger.REVERT.value,
        )
        .order_by(InvoiceSyncRun.id)
    )
    return int(unplanned) if unplanned is not None else None


def units_before(
    changes: Sequence[LandedChange],
    *,
    units_on: Callable[[date], int | None],
    change_dates: Callable[[date, date], Iterable[date]],
) -> tuple[date, date, list[Step]]:
    """One contract service's units before the run, from what the PSA holds now: the first
    and last day to write and check, and the steps (units from a day on, at the price and
    cost of the run's change in force that day: a compensating adjustment bills like the
    one it compensates).

    `units_on(day)` / `change_dates(start, end)`: the PSA's units now (as `reconcile` reads
    them). Every day on which the PSA's units or the run's changes move is a step, so a hand
    edit in the PSA after the run is kept."""
    ordered = sorted(changes, key=lambda c: c.effective)
    first = ordered[0].effective
    until = max(max(c.until for c in ordered), ordered[-1].effective)
    days = sorted({c.effective for c in ordered} | set(change_dates(first, until)) | {first})
    steps: list[Step] = []
    for day in days:
        if day > until:
            continue
        in_force = [c for c in ordered if c.effective <= day]
        units = (units_on(day) or 0) - sum(c.unit_change for c in in_force)
        latest = in_force[-1]
        step = Step(day, max(units, 0), latest.unit_price, latest.unit_cost)
        if steps and (steps[-1].units, steps[-1].unit_price, steps[-1].unit_cost) == (
            step.units,
            step.unit_price,
            step.unit_cost,
        ):
            continue
        steps.append(step)
    return first, until, steps
