"""The invoice sync's jobs and their vocabulary (S6, S7, S10): statuses, messages, the
job as a worker holds it, the PSA's unit history of one contract service, and what a job is
checked against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_domain.money import price_text
from prism_psa.invoices.units import UnitHistory
from prism_psa.invoices.values import Check, InvoiceLine, Outcome, Step, Target
from prism_psa.outcomes import ItemOutcome
from prism_psa.port import (
    ContractPort,
    NewAdjustment,
    PsaUnauthorized,
)
from prism_tables.sync.invoices import (
    InvoiceSyncJob,
    InvoiceSyncRun,
)

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
    "The PSA still differs from the invoices after this run: {days}. It changed while the "
    "run wrote, or refused a change: sync this invoice again."
)
DIFFERS_BEFORE = (
    "The PSA differs from the invoices before this invoice's period: {days}. Sync the "
    "invoice of that month to correct it."
)


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
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


def quantity_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def targets_json(targets: list[Target]) -> list[dict[str, Any]]:
    return [
        {
            "customer_id": t.customer_id,
            "sku": t.sku,
            "effective": t.effective.isoformat(),
            "units": t.units,
            "unit_price": price_text(t.unit_price),
            "unit_cost": price_text(t.unit_cost),
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


def line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "subscription_id": line.subscription_id,
        "period_start": line.period_start.isoformat(),
        "period_end": line.period_end.isoformat(),
        "quantity": quantity_text(line.quantity),
        "unit_cost": price_text(line.unit_cost),
        "unit_price": price_text(line.unit_price),
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
    #: Approval (runs that require it): the decision on the proposal, and the proposal shown.
    decision: str | None = None
    proposal: list[dict[str, Any]] | None = None

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


@dataclass
class Hooks:
    """Test seams: called around each adjustment write (to crash a worker at that point)."""

    before_intent: Callable[[NewAdjustment], None] | None = None
    before_write: Callable[[NewAdjustment], None] | None = None
    after_write: Callable[[NewAdjustment], None] | None = None


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


def job_view(job: InvoiceSyncJob) -> JobView:
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
        job.decision,
        list(job.proposal) if job.proposal is not None else None,
    )


class SyncParts:
    """What the stages of `InvoiceSync` share (its fields, declared on `InvoiceSync`)."""

    engine: Engine
    open_psa: Callable[[int, int], ContractPort]
    on_unauthorized: Callable[[int, PsaUnauthorized], None] | None
    notify_failure: Callable[[Session, InvoiceSyncRun], None] | None
    worker: str
    lease_seconds: float
    batch_size: int
    clock: Callable[[], datetime]
    hooks: Hooks
    _unchanged: dict[int, UnitHistory]
    #: Runs with a proposal planned and shown again (an approved one had gone stale).
    _shown_again: set[int]
