from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow


class Tenant(Base):
    """A customer's account in one program, e.g. its Microsoft CSP tenant domain (O1).

    A tenant exists only under a customer; its domain is unique within the program.
    """

    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("program_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"))
    domain: Mapped[str] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
