"""Orders, their lines, customer attachments and RFI requests (SPEC O2-O7)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow
from prism_platform.decimals import ExactDecimal


class OrderStatus(StrEnum):
    DRAFT = "DRAFT"  # saved: the prospect stays a prospect (O2)
    SUBMITTED = "SUBMITTED"  # final: subscriptions, addendum, mails (O2, O5, O7)


def reference(order_id: int) -> str:
    """An order as people name it, in the API, the addendum and the mails: ORD-000042."""
    return f"ORD-{order_id:06d}"


class Order(Base):
    """An order for a prospect or customer. While DRAFT it is edited freely; submitting it
    freezes it: the amounts are then kept as they were priced (`*_payment`, line prices)."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_created", "customer_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(
        Enum(OrderStatus, native_enum=False, length=20, validate_strings=True),
        default=OrderStatus.DRAFT,
    )
    permitted_users: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    order_number: Mapped[str | None] = mapped_column(String(50))
    order_number_not_required: Mapped[bool] = mapped_column(Boolean, default=False)
    msa_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    authorised_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    implementation_lead_name: Mapped[str | None] = mapped_column(String(200))
    implementation_lead_email: Mapped[str | None] = mapped_column(String(254))
    # Frozen on submit (O3): what the addendum and the mails showed.
    currency: Mapped[str | None] = mapped_column(String(3))
    ongoing_monthly_payment: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    annual_payment: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    one_time_fees: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    first_payment: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    submitted_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OrderLine(Base):
    """A product on an order; `unit_price` (the partner's cost) and `retail_unit_price` (the
    customer's price, the RRP) are frozen when it is submitted, and `subscription_id` names
    the subscription it created (O7)."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "product_id"),
        UniqueConstraint("subscription_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    retail_unit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )


class CustomerAttachment(Base):
    """A document kept on a customer (the Attachments area of the customer's page), e.g. the
    order addendum (O5). At most one per order: a repeated submit cannot add a second."""

    __tablename__ = "customer_attachments"
    __table_args__ = (
        UniqueConstraint("order_id"),
        Index("ix_customer_attachments_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # Never loaded with the row (lists stay small); read through its own loader.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RfiRequest(Base):
    """The Request for Information of a submitted order (O5, O6). The link's token is stored
    only as its SHA-256; `answers` is the validated form (prism_domain.rfi.RfiAnswers)."""

    __tablename__ = "rfi_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
