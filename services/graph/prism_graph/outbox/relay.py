"""The outbox relay: publishes committed events to the broker, then marks them sent.

Claiming, publishing and marking happen in one transaction. Several relays can run: on
PostgreSQL each claims its batch with `FOR UPDATE SKIP LOCKED`; on SQLite the transaction
takes the write lock up front. A relay that dies after publishing but before committing
leaves the rows unsent, so they are published again: delivery is at least once, and
consumers dedupe by `event_id`.

A relay also stages periodic events (`schedule.Periodic`, e.g. the invoice sync's safety
check) when their time slot comes, before publishing.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta

import dramatiq
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from prism_graph.outbox.schedule import Periodic, Scheduler
from prism_graph.outbox.signal import NOTIFY_CHANNEL, OutboxSignal
from prism_platform.broker import event_message
from prism_platform.db import utcnow, writer
from prism_platform.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISH_LAG
from prism_platform.polling import Poller
from prism_tables.outbox import OutboxEvent

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 100
DEFAULT_POLL_INTERVAL_S = 0.25
# A failed publish is tried again after 1 s, 2 s, 4 s ... up to 5 minutes.
RETRY_BASE_S = 1.0
RETRY_MAX_S = 300.0
DEFAULT_RETENTION = timedelta(days=7)


def retry_delay(attempts: int) -> timedelta:
    base = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.0))


class Relay:
    def __init__(
        self,
        engine: Engine,
        broker: dramatiq.Broker,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        signal: OutboxSignal | None = None,
        retention: timedelta = DEFAULT_RETENTION,
        schedules: tuple[Periodic, ...] = (),
    ) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._broker = broker
        self._batch_size = batch_size
        self._signal = signal or OutboxSignal()
        self._retention = retention
        self._scheduler = Scheduler(engine, schedules)
        self._poller = Poller(
            "outbox relay",
            engine,
            channel=NOTIFY_CHANNEL,
            signal=self._signal,
            # On PostgreSQL NOTIFY wakes it; the poll is a safety net for lost notifications.
            poll_interval=poll_interval * (8 if engine.dialect.name == "postgresql" else 1),
            housekeeping=self._prune_and_log,
        )

    def publish_pending(self, now: datetime | None = None) -> int:
        """Publish one batch of due events; return how many were published."""
        now = now or utcnow()
        published = 0
        with Session(self._writer) as session, session.begin():
            rows = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None), OutboxEvent.available_at <= now)
                .order_by(OutboxEvent.id)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.attempts += 1
                try:
                    self._broker.enqueue(event_message(row.envelope(), request_id=row.request_id))
                except Exception as exc:
                    # The broker is down or refused it: keep the row, try again later.
                    OUTBOX_PUBLISH_FAILURES.inc()
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    row.available_at = now + retry_delay(row.attempts)
                    log.warning(
                        "publishing event %s (%s) failed, attempt %d: %s",
                        row.event_id,
                        row.type,
                        row.attempts,
                        row.last_error,
                        extra={"event_id": row.event_id, "request_id": row.request_id},
                    )
                    break
                row.published_at = now
                row.last_error = None
                published += 1
                OUTBOX_PUBLISH_LAG.observe(max((now - row.created_at).total_seconds(), 0.0))
        return published

    def prune(self, now: datetime | None = None) -> int:
        cutoff = (now or utcnow()) - self._retention
        with Session(self._writer) as session, session.begin():
            result = session.execute(delete(OutboxEvent).where(OutboxEvent.published_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    def run(self, stop: threading.Event) -> None:
        """Publish until `stop` is set, sleeping between batches until woken or polled."""
        log.info("outbox relay started (%s)", self._engine.dialect.name)
        self._poller.run(stop, self._pass)

    def _pass(self) -> bool:
        """Stage what is due, publish a batch; True when more may be waiting."""
        self._scheduler.stage_due(utcnow())
        return self.publish_pending() == self._batch_size

    @property
    def passes(self) -> int:
        return self._poller.passes

    def wake(self) -> None:
        """Make a running `run` do a pass now (after a commit, or to see a stop)."""
        self._signal.notify()

    def _prune_and_log(self) -> None:
        pruned = self.prune()
        if pruned:
            log.info("outbox relay pruned %d published events", pruned)
