from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prism_domain.customers import CustomerStatus
from prism_platform.db import Base, UTCDateTime, utcnow
from prism_tables.organisations import Organisation


class Customer(Base):
    """An end customer, owned by a partner or directly by the distributor (T1, O1)."""

    __tablename__ = "customers"
    __table_args__ = (
        # One name per owner, compared case-insensitively through `name_key`.
        UniqueConstraint("owner_id", "name_key"),
        Index("ix_customers_owner_name_key", "owner_id", "name_key", "id"),
        Index("ix_customers_owner_created", "owner_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253))
    status: Mapped[CustomerStatus] = mapped_column(
        Enum(CustomerStatus, native_enum=False, length=20, validate_strings=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[Organisation] = relationship(lazy="raise")


def name_key(name: str) -> str:
    return name.casefold()
