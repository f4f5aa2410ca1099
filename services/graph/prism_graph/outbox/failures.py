"""Outbox rows the relay could not publish (`prism queue`): listed, and made due again.

A failed publish keeps the row unsent with its `last_error` and backs it off (up to 5
minutes, `relay.retry_delay`); the relay keeps trying on its own. Making a row due now only
spares the wait, e.g. once the broker is back; on PostgreSQL it also wakes the relays.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from prism_graph.outbox.signal import NOTIFY_CHANNEL
from prism_platform.db import utcnow
from prism_tables.outbox import OutboxEvent


def failed_rows(session: Session) -> list[OutboxEvent]:
    """Unsent rows whose last publish failed, oldest first."""
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None), OutboxEvent.last_error.is_not(None))
            .order_by(OutboxEvent.id)
        )
    )


def make_due(session: Session, ids: Sequence[int], now: datetime | None = None) -> int:
    """Make the still-unsent rows among `ids` due for the relay now; how many were."""
    if not ids:
        return 0
    result = session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids), OutboxEvent.published_at.is_(None))
        .values(available_at=now or utcnow())
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    return int(getattr(result, "rowcount", 0) or 0)
