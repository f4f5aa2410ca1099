"""The syncer's own product-sync tables: which PSA service stands for which product (S3) and
the record of every run (S7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow


class ProductServiceLink(Base):
    """Product → PSA service, found by id on every later sync. `origin` CREATED: Prism made
    the service; MANUAL: a person mapped the product (a retired one) to an existing service."""

    __tablename__ = "sync_product_services"
    __table_args__ = (UniqueConstraint("partner_id", "psa", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    psa: Mapped[str] = mapped_column(String(20), default="AUTOTASK")
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(10), default="CREATED")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProductSyncRun(Base):
    __tablename__ = "sync_product_runs"
    __table_args__ = (Index("ix_sync_product_runs_partner_program", "partner_id", "program_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    products_considered: Mapped[int] = mapped_column(Integer, default=0)
    products_synced: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)


class ProductSyncRunItem(Base):
    __tablename__ = "sync_product_run_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("sync_product_runs.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(Integer)
    service_name: Mapped[str | None] = mapped_column(String(200))
    # Decimal as exact text (the same on every database): what was (or would be) written.
    unit_price: Mapped[str | None] = mapped_column(String(40))
    unit_cost: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
