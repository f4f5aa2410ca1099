"""The loop of a background publisher (the outbox relay, the mail sender): do a pass, then
sleep until woken or until the poll interval has passed.

Woken by PostgreSQL's LISTEN/NOTIFY (a commit in any process) and by an in-process signal (a
commit in this process, or a stop). When the database is unreachable it backs off and tries
again; it never gives up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# While waiting on NOTIFY, the in-process signal is looked at this often (seconds).
SIGNAL_SLICE_S = 0.1
MAX_OUTAGE_BACKOFF_S = 30.0
PRUNE_EVERY_S = 600.0


class WakeSignal:
    """Wakes an in-process loop: set by a commit that left work for it, or by a stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class NotifyListener:
    """LISTEN on a PostgreSQL channel; falls back to the signal alone if LISTEN fails."""

    def __init__(self, engine: Engine, channel: str, name: str) -> None:
        self._engine = engine
        self._channel = channel
        self._name = name
        self._conn: Any = None

    def listen(self) -> None:
        if self._conn is not None:
            return
        import psycopg

        url = self._engine.url.set(drivername="postgresql")
        try:
            conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            conn.execute(f"LISTEN {self._channel}")
            self._conn = conn
        except psycopg.Error as exc:
            log.warning("%s: LISTEN failed (%s); polling instead", self._name, type(exc).__name__)

    def wait(self, timeout: float, signal: WakeSignal) -> None:
        import psycopg

        self.listen()
        if self._conn is None:
            signal.wait(timeout)
            return
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                for _ in self._conn.notifies(timeout=min(left, SIGNAL_SLICE_S), stop_after=1):
                    return
                if signal.wait(0):
                    return
        except psycopg.Error:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class Poller:
    """Runs `work` (which answers whether more is waiting) until `stop` is set."""

    def __init__(
        self,
        name: str,
        engine: Engine,
        *,
        channel: str,
        signal: WakeSignal,
        poll_interval: float,
        housekeeping: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.passes = 0  # completed passes, for monitoring and tests
        self._engine = engine
        self._channel = channel
        self._signal = signal
        self._poll_interval = poll_interval
        self._housekeeping = housekeeping
        self._last_housekeeping = 0.0

    def run(self, stop: threading.Event, work: Callable[[], bool]) -> None:
        on_postgres = self._engine.dialect.name == "postgresql"
        listener = NotifyListener(self._engine, self._channel, self.name) if on_postgres else None
        if listener is not None:
            listener.listen()  # before the first pass, so that no later commit goes unheard
        failures = 0
        try:
            while not stop.is_set():
                try:
                    more = work()
                    self._maybe_housekeep()
                    failures = 0
                except DBAPIError as exc:
                    failures += 1
                    delay = min(MAX_OUTAGE_BACKOFF_S, 0.5 * 2**failures)
                    log.warning(
                        "%s: database unavailable (%s); retrying in %.1fs",
                        self.name,
                        type(exc.orig).__name__,
                        delay,
                    )
                    stop.wait(delay)
                    continue
                self.passes += 1
                if more:
                    continue
                if listener is not None:
                    listener.wait(self._poll_interval, self._signal)
                else:
                    self._signal.wait(self._poll_interval)
        finally:
            if listener is not None:
                listener.close()
            log.info("%s stopped", self.name)

    def _maybe_housekeep(self) -> None:
        if self._housekeeping and time.monotonic() - self._last_housekeeping >= PRUNE_EVERY_S:
            self._last_housekeeping = time.monotonic()
            self._housekeeping()
