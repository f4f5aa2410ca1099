"""Invoice sync: plan a run into per-contract-service jobs, execute them under leases with
recorded intents, then record the outcome (S5-S7, S9, S10).

Why not inside the event's transaction: Autotask has no idempotency keys and an adjustment
is a delta, so a PSA write can never be rolled back with the database. Instead:

1. The handler records the run (PENDING) in the inbox transaction: exactly once per event.
2. `plan` reads the invoice, mappings and contracts and, in one transaction that moves the
   run PENDING -> RUNNING (only one planner wins), writes the skipped lines' items and one
   job per contract service with its targets.
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
"""

from __future__ import annotations

import logging
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from prism_platform.db import writer
from prism_syncer.invoices import sources
from prism_syncer.invoices.models import (
    ContractServiceLease,
    InvoiceSyncIntent,
    InvoiceSyncJob,
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from prism_syncer.invoices.planning import (
    MESSAGES,
    Adjustment,
    Check,
    Contract,
    InvoiceLine,
    IssuedPeriod,
    Outcome,
    Plan,
    Segment,
    Step,
    Target,
    compare,
    plan_invoice,
    reconcile,
)
from prism_syncer.invoices.status import (
    FINAL,
    ItemOutcome,
    RunStatus,
    customer_outcome,
    run_status,
)
from prism_syncer.psa.port import (
    ContractPort,
    ErrorCode,
    NewAdjustment,
    PsaError,
    PsaUnauthorized,
    PsaUnavailable,
    UnitRow,
)

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 300.0  # longer than any one PSA request can take (client timeout)
DEFAULT_BATCH = 500  # jobs claimed (and contracts read) at a time: one page of rows
MAX_ATTEMPTS = 5  # claims of one job before it is given up as an error
MAX_ROUNDS = 3  # re-reads within one claim after lost answers

NO_INVOICE = "No issued invoice to sync yet: contract services are added with the next invoice."
SYNC_TURNED_OFF = (
    "Sync was turned off for this customer or program before its changes were written; "
    "nothing was changed. Turn it on again to sync the next invoice (S9)."
)
GAVE_UP = "Gave up after {n} attempts: {reason} Please contact the Prism operations team."
NOT_ATTEMPTED = "Not attempted: {reason}"
NOT_ON_INVOICE = (
    "Not on this invoice: its contract service was set to the units the invoices say (0 "
    "unless a later invoice bills it)."
)
RECONCILE_FAILED = (
    "Autotask still differs from the invoices after this run: {days}. It changed while the "
    "run wrote, or refused a change: sync this invoice again."
)
DIFFERS_BEFORE = (
    "Autotask differs from the invoices before this invoice's period: {days}. Sync the "
    "invoice of that month to correct it."
)


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"


class IntentStatus(StrEnum):
    INTENDED = "INTENDED"
    APPLIED = "APPLIED"
    CONFIRMED = "CONFIRMED"
    NOT_APPLIED = "NOT_APPLIED"
    REFUSED = "REFUSED"


#: How a line the plan does not sync is reported (S5, S6).
SKIP_OUTCOMES: dict[Outcome, ItemOutcome] = {
    Outcome.ANNUAL_SKIPPED: ItemOutcome.SKIPPED,
    Outcome.NOT_SYNCED_KIND: ItemOutcome.SKIPPED,
    Outcome.CUSTOMER_NOT_SYNCED: ItemOutcome.SKIPPED,
    Outcome.USAGE_SYNC_OFF: ItemOutcome.SKIPPED,
    Outcome.FRACTIONAL_QUANTITY: ItemOutcome.WARNING,
    Outcome.PRODUCT_NOT_FOUND: ItemOutcome.ERROR,
    Outcome.CONTRACT_NOT_USABLE: ItemOutcome.ERROR,
    Outcome.DATE_OUTSIDE_CONTRACT: ItemOutcome.ERROR,
}


class SyncRefused(Exception):
    """The partner's PSA cannot be reached at all (no connection, unreadable secret)."""


class LeaseLost(Exception):
    """Another worker took the contract service's lease (ours expired): stop writing."""


def _money(value: Decimal) -> str:
    """Exact, without the database's padding (PostgreSQL gives 36.000000): at least cents."""
    value = value.normalize()
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


def _quantity(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _targets_json(targets: list[Target]) -> list[dict[str, Any]]:
    return [
        {
            "customer_id": t.customer_id,
            "sku": t.sku,
            "effective": t.effective.isoformat(),
            "units": t.units,
            "unit_price": _money(t.unit_price),
            "unit_cost": _money(t.unit_cost),
            "usage": t.usage,
        }
        for t in targets
    ]


def targets_of(job: InvoiceSyncJob | JobView) -> list[Target]:
    return [
        Target(
            customer_id=int(t["customer_id"]),
            contract_ref=str(job.contract_id),
            service_ref=str(job.service_id),
            sku=str(t["sku"]),
            effective=date.fromisoformat(t["effective"]),
            units=int(t["units"]),
            unit_price=Decimal(t["unit_price"]),
            unit_cost=Decimal(t["unit_cost"]),
            usage=bool(t.get("usage")),
        )
        for t in job.targets
    ]


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "subscription_id": line.subscription_id,
        "period_start": line.period_start.isoformat(),
        "period_end": line.period_end.isoformat(),
        "quantity": _quantity(line.quantity),
        "unit_cost": _money(line.unit_cost),
        "unit_price": _money(line.unit_price),
    }


@dataclass(frozen=True)
class JobView:
    """A claimed job, detached from any session."""

    id: int
    run_id: int
    partner_id: int
    customer_id: int
    contract_id: int
    service_id: int
    until: date
    targets: list[dict[str, Any]]
    attempts: int
    check_from: date | None = None

    @property
    def first(self) -> date:
        return min(date.fromisoformat(t["effective"]) for t in self.targets)

    @property
    def read_from(self) -> date:
        """The first day read: the reconciliation's, so that one read serves both."""
        return min(self.first, self.check_from or self.first)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.partner_id, self.contract_id, self.service_id)


class UnitHistory:
    """The PSA's units of one contract service, from its unit rows (None: not on contract).

    The units in force on a day are those of the row with the latest start on or before it
    (and not ended before it): Autotask documents that a row ends *at* the next adjustment's
    effective date, so on a change day two rows cover the day and the newer one counts.
    """

    def __init__(self, contract_service_id: int | None, rows: Iterable[UnitRow]) -> None:
        self.contract_service_id = contract_service_id
        self.rows = sorted(rows, key=lambda r: r.start)
        self._starts = [r.start for r in self.rows]

    def units_on(self, day: date) -> int | None:
        if self.contract_service_id is None:
            return None
        i = bisect_right(self._starts, day)
        if i == 0:
            return 0
        row = self.rows[i - 1]
        return row.units if day <= row.end else 0

    def change_dates(self, start: date, end: date) -> list[date]:
        """Days in [start, end] on which the units may change: row starts, and the day after a
        row that no other row follows at once."""
        days = {r.start for r in self.rows} | {r.end + timedelta(days=1) for r in self.rows}
        return sorted(d for d in days if start <= d <= end)


def ordered_for_writing(adjustments: list[Adjustment]) -> list[Adjustment]:
    """Increases first: applied one by one, the units never dip below zero on any day."""
    return [a for a in adjustments if a.unit_change > 0] + [
        a for a in adjustments if a.unit_change < 0
    ]


@dataclass
class Hooks:
    """Test seams: called around each adjustment write (to crash a worker at that point)."""

    before_intent: Callable[[NewAdjustment], None] | None = None
    before_write: Callable[[NewAdjustment], None] | None = None
    after_write: Callable[[NewAdjustment], None] | None = None


@dataclass
class InvoiceSync:
    """Drives invoice sync runs; any number of these may run at once, in any processes."""

    engine: Engine
    open_psa: Callable[[int], ContractPort]  # partner id -> port; raises SyncRefused
    on_unauthorized: Callable[[int, PsaUnauthorized], None] | None = None
    notify_failure: Callable[[Session, InvoiceSyncRun], None] | None = None
    worker: str = field(default_factory=lambda: uuid.uuid4().hex)
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    batch_size: int = DEFAULT_BATCH
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    hooks: Hooks = field(default_factory=Hooks)
    #: Unit histories that needed no write, reused for the reconciliation (no second read).
    _unchanged: dict[int, UnitHistory] = field(default_factory=dict, init=False, repr=False)

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
        seen = _seen if _seen is not None else set()
        seen.add(run_id)
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            if run is None:
                return None
            if run.status in FINAL:
                return run.status
            partner_id, status, invoice_id = run.partner_id, run.status, run.invoice_id
        if invoice_id is None and status == RunStatus.PENDING:
            return self._close_run(run_id, RunStatus.NO_CHANGE, NO_INVOICE)
        try:
            psa = self.open_psa(partner_id)
        except SyncRefused as exc:
            return self._close_run(run_id, RunStatus.FAILURE, str(exc))
        touched: set[tuple[int, int, int]] = set()
        try:
            if status == RunStatus.PENDING:
                self.plan(run_id, psa)
            touched = self.execute(run_id, psa, on_progress)
            result = self.finalize(run_id, psa)
        finally:
            psa.close()
        # Jobs of other runs that waited for a contract service this worker held (S10).
        for other in self._waiting_runs(touched, exclude=seen):
            self.drive(other, _seen=seen)
        return result

    # -- 2. planning -------------------------------------------------------------------------

    def plan(self, run_id: int, psa: ContractPort) -> None:
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None and run.invoice_id is not None
            partner_id, program_id = run.partner_id, run.program_id
            only = run.customer_id
            settings = sources.settings_of(session, partner_id, program_id)
            maps = sources.mappings(session, partner_id, program_id)
            links = sources.service_ids(session, partner_id, program_id)
            lines = sources.lines_of(session, run.invoice_id, only)
            invoice = sources.invoice(session, run.invoice_id)
            assert invoice is not None
            program_on = settings is not None and settings.sync_enabled
            synced = {
                c: m
                for c, m in maps.items()
                if program_on and m.sync_enabled and (only is None or c == only)
            }
            # Every synced customer whose products Prism manages, on this invoice or not (S11).
            billed = sources.billed_products(session, partner_id, program_id, synced.keys())
            in_scope = {ln.customer_id for ln in lines}
            managed = in_scope | billed.keys()
            checked = sources.first_synced_days(
                session, partner_id, {synced[c].contract_id for c in managed if c in synced}
            )
            since = min([invoice.period_start, *checked.values()])
            periods = sources.issued_periods(
                session, partner_id, program_id, since, managed & synced.keys()
            )
            names = sources.customer_names(session, managed)
        wanted = {synced[c].contract_id for c in managed if c in synced}
        try:
            found = psa.contracts_by_id(wanted)
        except PsaUnauthorized as exc:
            self._refused(partner_id, exc)
            self._record_refusal(run_id, lines, names, set(synced), in_scope, exc)
            return
        except PsaError as exc:
            log.warning("invoice sync run %s: contracts unreadable (%s); will resume", run_id, exc)
            return
        contracts: dict[int, Contract] = {}
        for customer_id in managed & synced.keys():
            contract_id = synced[customer_id].contract_id
            c = found.get(contract_id)
            contracts[customer_id] = (
                Contract(str(contract_id), c.active, c.recurring, c.start, c.end)
                if c is not None
                else Contract(str(contract_id), active=False)
            )
        skus = {ln.sku for ln in lines} | {sku for products in billed.values() for sku in products}
        services = {sku: links.get(sku.casefold()) for sku in skus}
        this = next((p for p in periods if p.id == invoice.id), None)
        plan = plan_invoice(
            lines,
            contracts=contracts,
            services=services,
            sync_usage=bool(settings and settings.sync_azure_usage),
            period=this or IssuedPeriod(invoice.id, invoice.period_start, invoice.period_end),
            invoices=periods,
            billed={c: billed.get(c, {}) for c in contracts},
            checked_from={(str(c), str(s)): day for (c, s), day in checked.items()},
        )
        self._record_plan(run_id, invoice, lines, plan, names, in_scope)

    def _record_refusal(
        self,
        run_id: int,
        lines: list[InvoiceLine],
        names: dict[int, str],
        synced: set[int],
        in_scope: set[int],
        exc: PsaUnauthorized,
    ) -> None:
        """The PSA refused the credentials before anything was planned: every synced line is
        an UNAUTHORIZED error with the action to take (S6); the run is then recorded."""
        with Session(writer(self.engine)) as session, session.begin():
            claimed = session.execute(
                update(InvoiceSyncRun)
                .where(InvoiceSyncRun.id == run_id, InvoiceSyncRun.status == RunStatus.PENDING)
                .values(
                    status=RunStatus.RUNNING.value,
                    customers_considered=len(in_scope),
                    message=str(exc),
                )
                .returning(InvoiceSyncRun.id)
            ).first()
            if claimed is None:
                return
            for line in lines:
                if line.customer_id in synced:
                    item = _line_item(
                        run_id, line, names, ItemOutcome.ERROR, ErrorCode.UNAUTHORIZED, str(exc)
                    )
                else:
                    outcome = Outcome.CUSTOMER_NOT_SYNCED
                    item = _line_item(
                        run_id, line, names, ItemOutcome.SKIPPED, outcome.value, MESSAGES[outcome]
                    )
                session.add(item)

    def _record_plan(
        self,
        run_id: int,
        invoice: sources.IssuedInvoice,
        lines: list[InvoiceLine],
        plan: Plan,
        names: dict[int, str],
        in_scope: set[int],
    ) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            claimed = session.execute(
                update(InvoiceSyncRun)
                .where(InvoiceSyncRun.id == run_id, InvoiceSyncRun.status == RunStatus.PENDING)
                .values(status=RunStatus.RUNNING.value, customers_considered=len(in_scope))
                .returning(InvoiceSyncRun.id)
            ).first()
            if claimed is None:
                return  # another worker planned it
            unused = list(plan.skipped)
            planned: dict[tuple[int, str], list[InvoiceLine]] = defaultdict(list)
            for line in lines:
                match = next(
                    (
                        s
                        for s in unused
                        if s.outcome is not Outcome.DATE_OUTSIDE_CONTRACT
                        and (s.customer_id, s.sku, s.subscription_id)
                        == (line.customer_id, line.sku, line.subscription_id)
                    ),
                    None,
                )
                if match is None:
                    planned[(line.customer_id, line.sku)].append(line)
                    continue
                unused.remove(match)
                session.add(
                    _line_item(
                        run_id,
                        line,
                        names,
                        SKIP_OUTCOMES[match.outcome],
                        match.outcome.value,
                        match.message,
                    )
                )
            for skipped in unused:  # dates outside the contract: per customer and product
                session.add(
                    InvoiceSyncRunItem(
                        run_id=run_id,
                        customer_id=skipped.customer_id,
                        customer_name=names.get(skipped.customer_id, "")[:255],
                        sku=skipped.sku,
                        outcome=SKIP_OUTCOMES[skipped.outcome].value,
                        code=skipped.outcome.value,
                        message=skipped.message,
                    )
                )
            for (contract_ref, service_ref), targets in plan.by_contract_service().items():
                customer_id, sku = targets[0].customer_id, targets[0].sku
                check = plan.checks[(contract_ref, service_ref)]
                session.add(
                    InvoiceSyncJob(
                        run_id=run_id,
                        partner_id=invoice.partner_id,
                        customer_id=customer_id,
                        contract_id=int(contract_ref),
                        service_id=int(service_ref),
                        sku=sku,
                        until=check.until,
                        check_from=check.start,
                        expected=[
                            {"effective": s.effective.isoformat(), "units": s.units}
                            for s in check.expected
                        ],
                        targets=_targets_json(targets),
                        lines=[_line_json(ln) for ln in planned.get((customer_id, sku), [])],
                        status=JobStatus.PENDING.value,
                        adjustments_applied=0,
                        attempts=0,
                    )
                )

    # -- 3. executing ------------------------------------------------------------------------

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
                self._work(batch, psa, progress)
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
                claimed.append(
                    JobView(
                        job.id,
                        job.run_id,
                        job.partner_id,
                        job.customer_id,
                        job.contract_id,
                        job.service_id,
                        job.until,
                        list(job.targets),
                        job.attempts,
                        job.check_from,
                    )
                )
            return claimed

    def _lease(
        self, session: Session, partner_id: int, contract_id: int, service_id: int, now: datetime
    ) -> bool:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
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
        self, batch: list[JobView], psa: ContractPort, job_done: Callable[[], None] = lambda: None
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
                self._run_job(job, psa, histories[job.id])
            except PsaUnauthorized as exc:
                self._unauthorized(batch[i:], exc)
                return
            except LeaseLost:
                log.warning("job %s: lease lost to another worker; left to it", job.id)
            job_done()

    def _read(self, psa: ContractPort, jobs: list[JobView]) -> dict[int, UnitHistory]:
        """Two batched reads for the whole batch: contract services, then unit rows (N3)."""
        contract_ids = {job.contract_id for job in jobs}
        on_contract = {
            (cs.contract_id, cs.service_id): cs.id for cs in psa.contract_services(contract_ids)
        }
        present = {
            job.contract_id for job in jobs if (job.contract_id, job.service_id) in on_contract
        }
        rows: dict[int, list[UnitRow]] = defaultdict(list)
        if present:
            start = min(job.read_from for job in jobs)
            end = max(job.until for job in jobs)
            for row in psa.unit_rows(present, start, end):
                rows[row.contract_service_id].append(row)
        histories = {}
        for job in jobs:
            cs_id = on_contract.get((job.contract_id, job.service_id))
            histories[job.id] = UnitHistory(cs_id, rows.get(cs_id, []) if cs_id else [])
        return histories

    def _run_job(self, job: JobView, psa: ContractPort, history: UnitHistory) -> None:
        targets = targets_of(job)
        for _ in range(MAX_ROUNDS):
            adjustments = reconcile(
                targets,
                units_on=history.units_on,
                change_dates=history.change_dates,
                until=job.until,
            )
            self._resolve_uncertain(job, adjustments)
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
        self._retry_later(job, "Autotask kept losing its answers.")

    # -- records of one job -----------------------------------------------------------------

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
                unit_price=_money(new.unit_price),
                unit_cost=_money(new.unit_cost),
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
                outcome = ItemOutcome.SYNCED if row.adjustments_applied else ItemOutcome.UNCHANGED
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

    # -- 4. the record -----------------------------------------------------------------------

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
        checks, differences = self._reconciliation(run_id, jobs, psa)
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
            cs_of = {(c.contract_id, c.sku): c.contract_service_id for c in checks}
            for job in jobs:
                contract_service_id = job.contract_service_id or cs_of.get(
                    (job.contract_id, job.sku)
                )
                for line in job.lines:
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
                        code=job.code if job.outcome == ItemOutcome.ERROR else None,
                        message=job.message,
                    )
                    session.add(item)
                    items.append(item)
                extra = _job_item(job, differences.get(job.id, []), invoice, run.invoice_id)
                if extra is not None:
                    extra.run_id = run_id
                    extra.customer_name = names.get(job.customer_id, "")[:255]
                    extra.contract_service_id = contract_service_id
                    session.add(extra)
                    items.append(extra)
            session.add_all(checks)
            self._summarise(session, run, jobs, items, names)
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
            session.add(
                InvoiceSyncRunItem(
                    run_id=run.id,
                    customer_id=customer_id,
                    customer_name=names.get(customer_id, "")[:255],
                    outcome=outcome.value,
                    message=errors[0] if outcome is ItemOutcome.ERROR and errors else None,
                )
            )
        run.customers_considered = max(run.customers_considered, len(by_customer))
        run.customers_synced = synced
        run.customers_failed = failed
        run.subscriptions_synced = sum(
            1 for i in items if i.outcome == ItemOutcome.SYNCED and i.subscription_id is not None
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
    ) -> tuple[list[InvoiceSyncReconciliation], dict[int, list[Segment]]]:
        """The desired units vs the PSA's on every day each contract service is checked for
        (from the first day Prism synced it to the end of the latest invoice), read back from
        the PSA after the writes (S7, S11): one row per stretch of days where neither changes,
        and per job the stretches that differ. The PSA's side is unknown (None) if it cannot
        be read, which is a difference too."""
        checked = [job for job in jobs if job.outcome != ItemOutcome.SKIPPED]
        histories = {j.id: self._unchanged[j.id] for j in checked if j.id in self._unchanged}
        to_read = [job for job in checked if job.id not in histories]
        if psa is not None and to_read:
            try:
                histories |= self._read(psa, [_view(j) for j in to_read])
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
        return rows, differences

    def _close_run(self, run_id: int, status: RunStatus, message: str) -> str:
        with Session(writer(self.engine)) as session, session.begin():
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None
            if run.status in FINAL:
                return run.status
            run.status = status.value
            run.message = message
            run.finished_at = self.clock()
            if status is RunStatus.FAILURE and self.notify_failure is not None:
                self.notify_failure(session, run)
            return run.status


def check_of(job: InvoiceSyncJob) -> Check:
    """What a job's contract service is checked against: its desired timeline from its first
    checked day (a job planned before the desired timeline: its targets, its own window)."""
    if job.expected is not None and job.check_from is not None:
        steps = tuple(
            Step(date.fromisoformat(s["effective"]), int(s["units"])) for s in job.expected
        )
        return Check(job.check_from, job.until, steps)
    targets = targets_of(job)
    steps = tuple(Step(t.effective, t.units) for t in targets)
    return Check(min(t.effective for t in targets), job.until, steps)


def _view(job: InvoiceSyncJob) -> JobView:
    return JobView(
        job.id,
        job.run_id,
        job.partner_id,
        job.customer_id,
        job.contract_id,
        job.service_id,
        job.until,
        list(job.targets),
        job.attempts,
        job.check_from,
    )


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
    invoice_id: int | None,
) -> InvoiceSyncRunItem | None:
    """The item a job adds beside its lines: the days the PSA still differs on, or a product
    with no line on this invoice whose contract service was set to what the invoices say."""
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
    if not job.lines and job.outcome in (ItemOutcome.SYNCED, ItemOutcome.ERROR):
        return InvoiceSyncRunItem(
            **base,
            quantity="0",
            outcome=job.outcome,
            code=job.code if job.outcome == ItemOutcome.ERROR else None,
            message=job.message or NOT_ON_INVOICE,
        )
    return None


def _line_item(
    run_id: int,
    line: InvoiceLine,
    names: dict[int, str],
    outcome: ItemOutcome,
    code: str,
    message: str,
) -> InvoiceSyncRunItem:
    return InvoiceSyncRunItem(
        run_id=run_id,
        customer_id=line.customer_id,
        customer_name=names.get(line.customer_id, "")[:255],
        subscription_id=line.subscription_id,
        sku=line.sku,  # "" for a line without a SKU: only customer items have None
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=_quantity(line.quantity),
        unit_cost=_money(line.unit_cost),
        unit_price=_money(line.unit_price),
        outcome=outcome.value,
        code=code,
        message=message,
    )


def start_run(
    session: Session,
    *,
    partner_id: int,
    program_id: int,
    trigger: str,
    invoice_id: int | None,
    customer_id: int | None = None,
) -> InvoiceSyncRun:
    """Record a run (PENDING) in the caller's transaction; `InvoiceSync.drive` does the rest."""
    run = InvoiceSyncRun(
        partner_id=partner_id,
        program_id=program_id,
        invoice_id=invoice_id,
        customer_id=customer_id,
        trigger=trigger,
        status=RunStatus.PENDING.value,
        customers_considered=0,
        customers_synced=0,
        customers_failed=0,
        subscriptions_synced=0,
        adjustments_applied=0,
        warnings=0,
    )
    session.add(run)
    session.flush()
    return run


__all__ = ["MESSAGES", "InvoiceSync", "RunStatus", "SyncRefused", "start_run"]
