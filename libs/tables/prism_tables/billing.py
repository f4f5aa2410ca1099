from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_platform.db import Base, UTCDateTime, utcnow
from prism_platform.decimals import ExactDecimal


class Invoice(Base):
    """One per partner, program and month: `key` is unique, so a re-run issues nothing twice."""

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_partner_period", "partner_id", "period_start", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(ExactDecimal())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="RESTRICT")
    )
    sku: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[LineKind] = mapped_column(
        Enum(LineKind, native_enum=False, length=20, validate_strings=True)
    )
    billing_term: Mapped[BillingTerm | None] = mapped_column(
        Enum(BillingTerm, native_enum=False, length=20, validate_strings=True)
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    amount: Mapped[Decimal] = mapped_column(ExactDecimal())
    description: Mapped[str] = mapped_column(Text, default="")


class UsageRecord(Base):
    """Metered use of a USAGE product by a customer on one day (e.g. Azure); P3.

    The rates are the product's prices in force on that day, fixed when recorded.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id", "day"),
        Index("ix_usage_records_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    day: Mapped[date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Charge(Base):
    """A one-time fee (`ONE_TIME_FEE`, with a product) or a manual credit or adjustment
    (`ADJUSTMENT`, a signed amount), billed on the program's invoice for the month of `day`."""

    __tablename__ = "charges"
    __table_args__ = (Index("ix_charges_program_day", "program_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LineKind] = mapped_column(
        Enum(LineKind, native_enum=False, length=20, validate_strings=True)
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    sku: Mapped[str | None] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
