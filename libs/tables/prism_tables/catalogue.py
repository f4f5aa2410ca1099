from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prism_domain.catalogue import BillingTerm, ProductKind
from prism_platform.db import Base, UTCDateTime, utcnow
from prism_platform.decimals import ExactDecimal


class Program(Base):
    """A vendor program the distributor sells (Microsoft CSP, Azure, SPLA, Mimecast, ...)."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Retired programs are off the catalogue for new business; what exists keeps billing.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Product(Base):
    """One SKU of a program's price list; its prices are `ProductPrice` versions (P1).

    The SKU never changes once created (the PSA service is named after it, S3).
    """

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("program_id", "sku_key"),
        Index("ix_products_program_name_key", "program_id", "name_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"))
    sku: Mapped[str] = mapped_column(String(64))
    sku_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    billing_term: Mapped[BillingTerm] = mapped_column(
        Enum(BillingTerm, native_enum=False, length=20, validate_strings=True)
    )
    kind: Mapped[ProductKind] = mapped_column(
        Enum(ProductKind, native_enum=False, length=20, validate_strings=True)
    )
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProductPrice(Base):
    """Prices of a product from `effective_from` until the next version (P1)."""

    __tablename__ = "product_prices"
    __table_args__ = (UniqueConstraint("product_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    effective_from: Mapped[date] = mapped_column(Date)
    buy_price: Mapped[Decimal] = mapped_column(ExactDecimal())
    rrp: Mapped[Decimal] = mapped_column(ExactDecimal())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def text_key(text: str) -> str:
    return text.casefold()
