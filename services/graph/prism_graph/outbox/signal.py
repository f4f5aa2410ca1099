from __future__ import annotations

from prism_platform.polling import WakeSignal

# PostgreSQL channel the unit of work NOTIFYs on commit and the relay LISTENs on.
NOTIFY_CHANNEL = "prism_outbox"


class OutboxSignal(WakeSignal):
    """Wakes an in-process relay as soon as a transaction that wrote events commits.

    Relays in other processes are woken by LISTEN/NOTIFY on PostgreSQL; on SQLite they poll.
    """
