from __future__ import annotations

from prism_platform.polling import WakeSignal

# The PostgreSQL channel the unit of work NOTIFYs on commit and the relay LISTENs on; the
# syncer's own events NOTIFY it too (`prism_tables.outbox.stage_in`), so it lives there.
from prism_tables.outbox import NOTIFY_CHANNEL

__all__ = ["NOTIFY_CHANNEL", "OutboxSignal"]


class OutboxSignal(WakeSignal):
    """Wakes an in-process relay as soon as a transaction that wrote events commits.

    Relays in other processes are woken by LISTEN/NOTIFY on PostgreSQL; on SQLite they poll.
    """
