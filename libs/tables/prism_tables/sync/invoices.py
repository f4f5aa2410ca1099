"""The invoice sync's record (S5-S7): every run, its per-customer and per-subscription
outcomes, and the reconciliation of invoice quantities against the PSA's units after it.

Money and quantities are stored as exact Decimal text (the same on every database), as in the
product sync's items.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow


class InvoiceSyncRun(Base):
    """One sync of one invoice (or of one customer's latest invoice: "save and sync now").

    status: PENDING / RUNNING while under way (AWAITING_APPROVAL while planned adjustments
    wait for a partner admin's decision), then NO_CHANGE / SUCCESS / WARNING / FAILURE (S7).
    trigger: INVOICE_ISSUED, MANUAL, SAVE_AND_SYNC, SAFETY_CHECK, REVERT (then
    `reverts_run_id` names the run it puts back; at most one revert per run). approval:
    REQUIRED when the program's settings asked for approval when the run was recorded.
    """

    __tablename__ = "sync_invoice_runs"
    __table_args__ = (
        Index("ix_sync_invoice_runs_partner_program", "partner_id", "program_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(Integer)  # set: a one-customer run
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    customers_considered: Mapped[int] = mapped_column(Integer, default=0)
    customers_synced: Mapped[int] = mapped_column(Integer, default=0)
    customers_failed: Mapped[int] = mapped_column(Integer, default=0)
    subscriptions_synced: Mapped[int] = mapped_column(Integer, default=0)
    adjustments_applied: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    approval: Mapped[str | None] = mapped_column(String(20))
    reverts_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_invoice_runs.id", ondelete="CASCADE"), unique=True
    )


class InvoiceSyncRunItem(Base):
    """One customer's outcome (kind CUSTOMER) or one of its services' (kind SERVICE: an
    invoice line, or a product's contract service) (S6, S7).

    outcome: NO_CHANGE, SUCCESS, SKIPPED, WARNING, ERROR (`prism_psa.outcomes`); code: the reason (an
    `invoices.planning.Outcome`, or UNAUTHORIZED / UNEXPECTED ...); message: what to do.
    """

    __tablename__ = "sync_invoice_run_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_invoice_runs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="SERVICE")
    customer_id: Mapped[int] = mapped_column(Integer)
    customer_name: Mapped[str] = mapped_column(String(255), default="")
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    sku: Mapped[str | None] = mapped_column(String(64))
    product_name: Mapped[str | None] = mapped_column(String(255))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    effective_date: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[str | None] = mapped_column(String(40))
    unit_cost: Mapped[str | None] = mapped_column(String(40))
    unit_price: Mapped[str | None] = mapped_column(String(40))
    unit_change: Mapped[int | None] = mapped_column(Integer)
    contract_id: Mapped[int | None] = mapped_column(Integer)
    contract_service_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)


class InvoiceSyncReconciliation(Base):
    """After a run: per customer and service, the invoice's units vs the PSA's on `as_of`."""

    __tablename__ = "sync_invoice_reconciliation"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_invoice_runs.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    contract_id: Mapped[int] = mapped_column(Integer)
    contract_service_id: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    invoice_units: Mapped[int] = mapped_column(Integer)
    psa_units: Mapped[int | None] = mapped_column(Integer)
    matches: Mapped[bool] = mapped_column(Boolean)


class InvoiceSyncJob(Base):
    """One contract service's share of a run (S10): the targets it must reach, and how it went.

    Jobs are planned once per run (the run moves PENDING -> RUNNING in the same transaction),
    then executed outside any long transaction, each under its contract service's lease.
    status: PENDING (to do, or to resume), RUNNING (a worker holds it until `lease_until`),
    AWAITING_APPROVAL (its `proposal` waits for a `decision`: APPROVED or DISMISSED, by
    `decided_by`), DONE. outcome: SUCCESS, NO_CHANGE, ERROR, SKIPPED. `replanned`: how many
    times an approved proposal had gone stale and was planned and shown again.
    """

    __tablename__ = "sync_invoice_jobs"
    __table_args__ = (
        UniqueConstraint("run_id", "contract_id", "service_id"),
        Index("ix_sync_invoice_jobs_status", "status", "run_id"),
        Index("ix_sync_invoice_jobs_contract_service", "partner_id", "contract_id", "service_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_invoice_runs.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    contract_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    until: Mapped[date] = mapped_column(Date)
    # [{"effective": "2026-11-01", "units": 5, "unit_price": "36.00", "unit_cost": "32.40",
    #   "usage": false}, ...] in date order
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The invoice lines this job stands for (for the per-subscription items).
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The reconciliation checks every day from `check_from` to `until` against `expected`:
    # the desired timeline from all issued invoices ([{"effective", "units"}, ...]); the
    # targets above are its part from the synced invoice's first day on (None: jobs planned
    # before the desired timeline, checked against their targets).
    check_from: Mapped[date | None] = mapped_column(Date)
    expected: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    outcome: Mapped[str | None] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    contract_service_id: Mapped[int | None] = mapped_column(Integer)
    adjustments_applied: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposal: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replanned: Mapped[int] = mapped_column(Integer, default=0)


class InvoiceSyncIntent(Base):
    """An adjustment about to be written, committed before the PSA call (S10).

    status: INTENDED (written before the call; if it stays so, the call's fate is unknown),
    APPLIED (the PSA answered), CONFIRMED (its answer was lost, and re-reading the PSA showed
    the change there), NOT_APPLIED (re-reading showed it missing: recomputed, never replayed),
    REFUSED (the PSA refused it).
    """

    __tablename__ = "sync_invoice_intents"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("sync_invoice_jobs.id", ondelete="CASCADE"), index=True
    )
    contract_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(Integer)
    effective_date: Mapped[date] = mapped_column(Date)
    unit_change: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[str] = mapped_column(String(40))
    unit_cost: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="INTENDED")
    adjustment_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ContractServiceLease(Base):
    """One worker at a time per contract service, across every process (S10, STYLE habit 3).

    Taken with one upsert that only replaces an expired lease or the holder's own, so it works
    the same on PostgreSQL (row lock of ON CONFLICT) and SQLite (the writer's BEGIN IMMEDIATE).
    """

    __tablename__ = "sync_contract_service_leases"

    partner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
