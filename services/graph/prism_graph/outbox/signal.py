from __future__ import annotations

import threading

# PostgreSQL channel the unit of work NOTIFYs on commit and the relay LISTENs on.
NOTIFY_CHANNEL = "prism_outbox"


class OutboxSignal:
    """Wakes an in-process relay as soon as a transaction that wrote events commits.

    PostgreSQL relays in other processes are woken by LISTEN/NOTIFY instead; SQLite has no
    such thing, so an in-process relay is woken by this and any other relay polls.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken
