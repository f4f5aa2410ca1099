"""The outbox's gauges, read when Prometheus scrapes the relay (`prism_platform.metrics`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import dramatiq
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, func, select

from prism_platform.broker import EVENTS_QUEUE
from prism_platform.db import utcnow
from prism_platform.metrics import (
    OUTBOX_FAILING,
    OUTBOX_OLDEST_AGE,
    OUTBOX_UNSENT,
    Reader,
    broker_queues,
    watch,
)
from prism_tables.outbox import OutboxEvent


def outbox_backlog(engine: Engine) -> Reader:
    """Unpublished events, the oldest one's age and those whose last publish failed: one
    statement on the partial index of unpublished rows."""

    def read() -> Iterable[Metric]:
        unsent = OutboxEvent.published_at.is_(None)
        with engine.connect() as conn:
            count, oldest, failing = conn.execute(
                select(
                    func.count(),
                    func.min(OutboxEvent.created_at),
                    func.count(OutboxEvent.last_error),
                ).where(unsent)
            ).one()
        age = 0.0
        if oldest is not None:
            age = max((utcnow() - oldest).total_seconds(), 0.0)
        return [
            OUTBOX_UNSENT.family(int(count)),
            OUTBOX_OLDEST_AGE.family(age),
            OUTBOX_FAILING.family(int(failing)),
        ]

    return read


def watch_outbox(engine: Engine, broker: dramatiq.Broker) -> Callable[[], None]:
    """What a relay shows at each scrape: the outbox's backlog and the broker's queues.
    Returns how to stop."""
    stops = [
        watch("outbox", outbox_backlog(engine)),
        watch("events queue", broker_queues(broker, EVENTS_QUEUE)),
    ]

    def stop() -> None:
        for each in stops:
            each()

    return stop
