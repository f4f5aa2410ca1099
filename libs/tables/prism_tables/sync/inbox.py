"""The syncer's inbox: the events it has handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from prism_platform.db import Base, UTCDateTime, utcnow


class ProcessedEvent(Base):
    """The inbox: one row per event the syncer has handled, written with the handler's effects.

    Its primary key is the event id, so a redelivered event finds its row and is skipped.
    """

    __tablename__ = "sync_processed_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
