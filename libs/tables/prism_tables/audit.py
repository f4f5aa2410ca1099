from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow
from prism_tables.outbox import BigId


class AuditEvent(Base):
    """One row per mutation: who, acting for whom, what, on what, when, and how it ended.

    Written in a transaction of its own, so that refused and failed mutations are kept too.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_partner_time", "partner_id", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(20))  # USER, API_CLIENT, CONTACT, ANONYMOUS
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(254))
    # The distributor organisation when its staff act for a partner; else the actor's own.
    actor_organisation_id: Mapped[int | None]
    # The partner whose data the mutation concerned (None: the distributor's own scope).
    partner_id: Mapped[int | None]
    operation: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))  # SUCCESS, REFUSED, DENIED, ERROR
    detail: Mapped[str | None] = mapped_column(Text)
    client_address: Mapped[str | None] = mapped_column(String(64))
