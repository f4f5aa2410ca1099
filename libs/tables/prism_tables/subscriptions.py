from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prism_domain.catalogue import BillingTerm
from prism_platform.db import Base, UTCDateTime, utcnow


class Subscription(Base):
    """A product held by a customer from `start_date` (O7).

    `sku` is the product's (never changing) SKU, kept here so that a page of subscriptions
    needs no join; `quantity` is the latest recorded quantity (the one in force from the
    latest change on), the history is in `SubscriptionQuantity`.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    billing_term: Mapped[BillingTerm] = mapped_column(
        Enum(BillingTerm, native_enum=False, length=20, validate_strings=True)
    )
    start_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    cancelled_from: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SubscriptionQuantity(Base):
    """One entry of the quantity history (P2): the first is the quantity at the start."""

    __tablename__ = "subscription_quantities"
    __table_args__ = (UniqueConstraint("subscription_id", "effective_from", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    effective_from: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
