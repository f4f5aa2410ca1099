from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from prism_domain.events import DomainEvent
from prism_platform.db import Base, UTCDateTime, utcnow

# PostgreSQL channel a transaction that writes events NOTIFYs on and the relay LISTENs on.
NOTIFY_CHANNEL = "prism_outbox"

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_pending",
            "available_at",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
        Index("ix_outbox_events_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the relay may try again after a failed publish (back-off); due now when created.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The HTTP request whose mutation recorded the event, for the logs (not the envelope).
    request_id: Mapped[str | None] = mapped_column(String(64))

    @staticmethod
    def values_of(event: DomainEvent) -> dict[str, Any]:
        """The row's columns for `event` (its envelope, made of JSON primitives)."""
        envelope = event.envelope().to_dict()
        return {
            "event_id": envelope["event_id"],
            "type": envelope["type"],
            "version": envelope["version"],
            "aggregate_type": envelope["aggregate_type"],
            "aggregate_id": envelope["aggregate_id"],
            "occurred_at": event.occurred_at,
            "payload": envelope["payload"],
        }

    def envelope(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "payload": self.payload,
        }


def stage_in(session: Session, event: DomainEvent) -> None:
    """Stage `event` in the caller's (synchronous) transaction, as the API's unit of work
    does: the worker's own events (an invoice sync run's outcome) leave through the outbox
    too, and exist exactly when the data they describe does."""
    session.add(OutboxEvent(**OutboxEvent.values_of(event)))
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Delivered to listening relays only if and when this transaction commits.
        session.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
