from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.events import DomainEvent
from prism_graph.outbox.signal import NOTIFY_CHANNEL
from prism_platform.logging import current_request_id
from prism_tables.outbox import OutboxEvent


async def append(session: AsyncSession, events: Iterable[DomainEvent]) -> int:
    """Stage events in the caller's transaction: they exist exactly when its data does."""
    request_id = current_request_id()  # the HTTP request's, when a mutation records them
    rows = [OutboxEvent(**OutboxEvent.values_of(event), request_id=request_id) for event in events]
    if not rows:
        return 0
    session.add_all(rows)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Delivered to listening relays only if and when this transaction commits.
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    return len(rows)
