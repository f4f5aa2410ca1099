"""Prometheus metrics of every Prism process, and how each process shows them.

Every metric is declared here, once; docs/operations.md ("Metrics") lists them for operators.
Values come from three kinds of place:

- counters and histograms the code moves as things happen (a GraphQL request, a relay
  publish, an Autotask request, a sync run ending, a mail delivery attempt);
- gauges read from the database or the broker when Prometheus scrapes (`watch`): the outbox
  backlog, the mail queue, the events and dead-letter queues. The process that owns the
  thing registers the reader (the relay the outbox and the queues, the mailer the mail);
- Dramatiq's own Prometheus middleware in the worker (`DramatiqMetrics`).

How a process exposes them:

- the API serves `GET /metrics` on its own port; in `prism dev` every part runs in that one
  process, so that page shows all of the above;
- `prism relay` and `prism mailer` start prometheus_client's HTTP server on METRICS_PORT
  (`serve`; 0, the default, starts none);
- `prism worker` runs Dramatiq's CLI, that is several processes: prometheus_client's
  multiprocess mode keeps each process's values in files of one directory, and the
  exposition server Dramatiq's middleware forks serves their sum on METRICS_PORT
  (`worker_environment` prepares both before the CLI starts).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# -- the API ----------------------------------------------------------------------------------

GRAPHQL_DURATION = Histogram(
    "prism_graphql_request_duration_seconds",
    "Time to parse, validate and execute a GraphQL operation.",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
GRAPHQL_ERRORS = Counter(
    "prism_graphql_errors",
    "Errors in GraphQL responses (not a payload's expected `errors`), by their code.",
    ["operation", "code"],
)

# -- the outbox relay -------------------------------------------------------------------------

OUTBOX_PUBLISH_LAG = Histogram(
    "prism_outbox_publish_lag_seconds",
    "From an event's commit (its outbox row) to the relay publishing it to the broker.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 300.0, 3600.0),
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "prism_outbox_publish_failures",
    "Attempts to publish an outbox event that the broker refused (the row is retried).",
)

# -- the sync worker --------------------------------------------------------------------------

SYNC_RUNS = Counter(
    "prism_sync_runs",
    "PSA sync runs that ended, by kind (product, invoice) and final status.",
    ["kind", "status"],
)
AUTOTASK_REQUESTS = Counter(
    "prism_autotask_requests",
    "HTTP requests to Autotask, by endpoint and outcome (the HTTP status, timeout, error).",
    ["endpoint", "status"],
)
AUTOTASK_DURATION = Histogram(
    "prism_autotask_request_duration_seconds",
    "Time Autotask took to answer a request (waiting for a slot not included).",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
AUTOTASK_BUDGET_REMAINING = Gauge(
    "prism_autotask_budget_remaining",
    "Requests left in the rolling hour's budget of an Autotask database (its zone's ci).",
    ["database"],
    # Several worker processes report the same shared count: the latest report is right.
    multiprocess_mode="mostrecent",
)

# -- the mailer -------------------------------------------------------------------------------

MAIL_OUTCOMES = Counter(
    "prism_mail_outcomes",
    "Outcomes of mail delivery attempts: sent, retried (back to the queue) or failed.",
    ["outcome"],
)


# -- gauges read at scrape time ---------------------------------------------------------------


@dataclass(frozen=True)
class StateGauge:
    """A gauge whose value is read from the database or the broker at each scrape."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()

    def family(self, values: float | Mapping[tuple[str, ...], float]) -> GaugeMetricFamily:
        if not isinstance(values, Mapping):
            return GaugeMetricFamily(self.name, self.documentation, value=values)
        family = GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))
        for labels, value in values.items():
            family.add_metric(list(labels), value)
        return family


OUTBOX_UNSENT = StateGauge(
    "prism_outbox_unsent_events", "Outbox events committed and not yet published."
)
OUTBOX_OLDEST_AGE = StateGauge(
    "prism_outbox_oldest_unsent_age_seconds",
    "Age of the oldest unpublished outbox event; 0 when there is none.",
)
OUTBOX_FAILING = StateGauge(
    "prism_outbox_failing_events",
    "Unpublished outbox events whose last publish attempt failed.",
)
EVENTS_QUEUED = StateGauge(
    "prism_events_queued_messages",
    "Event messages in the broker's events queue (waiting or being handled).",
)
EVENTS_DELAYED = StateGauge(
    "prism_events_delayed_messages",
    "Event messages waiting in the broker for a retry after a failure.",
)
DEAD_LETTERS = StateGauge(
    "prism_dead_letters",
    "Event messages in the dead-letter queue (retries exhausted or refused); kept 7 days.",
)
MAIL_QUEUE = StateGauge(
    "prism_mail_messages",
    "Mail messages not sent, by status (PENDING, CLAIMED, SENDING, FAILED).",
    ("status",),
)
MAIL_OLDEST_AGE = StateGauge(
    "prism_mail_oldest_pending_age_seconds",
    "Age of the oldest mail message waiting to be sent; 0 when there is none.",
)

Reader = Callable[[], Iterable[Metric]]


class _Readers(Collector):
    """The scrape-time readers of this process, by name (a second one of a name replaces
    the first: one process reports a thing once)."""

    def __init__(self) -> None:
        self._readers: dict[str, Reader] = {}
        self._lock = threading.Lock()

    def set(self, name: str, reader: Reader) -> None:
        with self._lock:
            self._readers[name] = reader

    def remove(self, name: str, reader: Reader) -> None:
        with self._lock:
            if self._readers.get(name) is reader:
                del self._readers[name]

    def describe(self) -> Iterable[Metric]:
        return []  # registered before any reader exists: nothing to check names against

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            readers = list(self._readers.items())
        for name, reader in readers:
            try:
                families = list(reader())
            except Exception as exc:
                # A scrape must not fail because the database or Redis is away: the gauges
                # are missing for this scrape (alert on absent() if that matters).
                log.warning("metrics: cannot read %s: %s", name, type(exc).__name__)
                continue
            yield from families


_READERS = _Readers()
REGISTRY.register(_READERS)


def watch(name: str, reader: Reader) -> Callable[[], None]:
    """Read `reader`'s gauges at every scrape of this process; returns how to stop."""
    _READERS.set(name, reader)
    return lambda: _READERS.remove(name, reader)


def broker_queues(broker: dramatiq.Broker, queue: str) -> Reader:
    """The events queue's waiting, delayed and dead-lettered messages, read from the broker.

    Dramatiq's Redis layout: `<ns>:<queue>.msgs` holds the queue's messages, `.DQ.msgs` the
    delayed ones, the sorted set `<ns>:<queue>.XQ` the dead letters."""

    def read() -> Iterable[Metric]:
        if isinstance(broker, RedisBroker):
            client: Any = broker.client
            base = f"{broker.namespace}:{queue}"
            queued, delayed, dead = (
                int(client.hlen(f"{base}.msgs")),
                int(client.hlen(f"{base}.DQ.msgs")),
                int(client.zcard(f"{base}.XQ")),
            )
        elif isinstance(broker, StubBroker):
            queues: Any = broker.queues
            queued = queues[queue].qsize() if queue in queues else 0
            delayed_name = f"{queue}.DQ"
            delayed = queues[delayed_name].qsize() if delayed_name in queues else 0
            dead = len(broker.dead_letters_by_queue[queue])
        else:
            return []
        return [
            EVENTS_QUEUED.family(queued),
            EVENTS_DELAYED.family(delayed),
            DEAD_LETTERS.family(dead),
        ]

    return read


def count_sync_run(session: Session, kind: str, status: str) -> None:
    """Count a sync run that ended, once `session`'s transaction commits (a run rolled back
    with its transaction never ended: its event is handled again)."""

    def ended(_: Session) -> None:
        SYNC_RUNS.labels(kind, status).inc()

    event.listen(session, "after_commit", ended, once=True)


# -- bounded labels ---------------------------------------------------------------------------

MAX_OPERATION_NAMES = 200
MAX_OPERATION_NAME_LENGTH = 64
ANONYMOUS = "anonymous"
OTHER = "other"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


class OperationNames:
    """The `operation` label of the GraphQL metrics, bounded: the name of the operation the
    parsed document holds (a GraphQL name, cut to 64 characters), "anonymous" without one,
    and "other" once 200 different names were seen by this process, so that a client
    inventing names cannot grow the series without end."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if not _NAME.fullmatch(name):
            return OTHER
        name = name[:MAX_OPERATION_NAME_LENGTH]
        with self._lock:
            if name in self._seen:
                return name
            if len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(name)
            return name


OPERATION_NAMES = OperationNames()


# -- the Autotask client's hook -----------------------------------------------------------------


def autotask_request_observed(endpoint: str, status: str, seconds: float) -> None:
    """`autotask_client.AutotaskClient`'s `observe` hook: one request answered (or not)."""
    label = endpoint or "unknown"
    AUTOTASK_REQUESTS.labels(label, status).inc()
    AUTOTASK_DURATION.labels(label).observe(seconds)


BUDGET_REPORT_INTERVAL_S = 10.0
_budget_reported: dict[str, float] = {}


def report_budget(database: str, remaining: Callable[[], int | None]) -> None:
    """Set the budget gauge of `database` from `remaining()`, at most every 10 seconds per
    database and process (reading the window's counters costs one MGET of 3,600 keys)."""
    now = time.monotonic()
    last = _budget_reported.get(database)
    if last is not None and now - last < BUDGET_REPORT_INTERVAL_S:
        return
    _budget_reported[database] = now
    value = remaining()
    if value is not None:
        AUTOTASK_BUDGET_REMAINING.labels(database).set(value)


# -- exposition -------------------------------------------------------------------------------


def exposition() -> bytes:
    """This process's metrics in Prometheus' text format (the API's `GET /metrics`)."""
    return generate_latest(REGISTRY)


def serve(host: str, port: int) -> None:
    """Serve this process's metrics on `host:port` (a daemon thread) when `port` is set."""
    if port:
        start_http_server(port, addr=host)
        log.info("metrics on http://%s:%d/metrics", host, port)


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def worker_environment(host: str, port: int) -> dict[str, str]:
    """The variables `prism worker` hands Dramatiq's CLI so that its processes share their
    metrics and its exposition server listens on `host:port`; nothing when `port` is 0.

    prometheus_client picks multiprocess mode when it is first imported, so the directory
    is named before any worker process starts, and emptied: values of a previous run would
    otherwise be added to this one's (Dramatiq's middleware does not clear it)."""
    if not port:
        return {}
    folder = Path(
        os.environ.get(MULTIPROCESS_DIR)
        or Path(tempfile.gettempdir()) / f"prism-worker-metrics-{port}"
    )
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    return {
        MULTIPROCESS_DIR: str(folder),
        "dramatiq_prom_db": str(folder),
        "dramatiq_prom_host": host,
        "dramatiq_prom_port": str(port),
    }


# -- Dramatiq ---------------------------------------------------------------------------------


@contextmanager
def _environment_kept(*names: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dramatiq_metrics(broker: dramatiq.Broker, *, boot_now: bool) -> None:
    """Add Dramatiq's own Prometheus middleware to `broker`: messages handled, errors,
    retries, dead letters (`dramatiq_message_rejects_total`), in progress and durations.

    `boot_now` when no Dramatiq CLI will announce the process's boot (`prism dev`, tests):
    its metrics are made at once and shown with this process's others. Under the CLI
    (`prism worker`) the CLI's boot makes them, in the multiprocess directory."""
    # Imported here, not at the top: the module makes its directory as it is imported.
    from dramatiq.middleware.prometheus import Prometheus

    class PrismDramatiqMetrics(Prometheus):
        def after_process_boot(self, broker: dramatiq.Broker) -> None:
            if os.environ.get(MULTIPROCESS_DIR):
                super().after_process_boot(broker)  # type: ignore[no-untyped-call]
                return
            # One process: the middleware's own registry and its multiprocess switch would
            # hide its metrics and change the environment of everything started later.
            with _environment_kept(MULTIPROCESS_DIR, "prometheus_multiproc_dir"):
                super().after_process_boot(broker)  # type: ignore[no-untyped-call]
            metrics = [m for m in vars(self).values() if isinstance(m, MetricWrapperBase)]
            watch("dramatiq", lambda: (f for m in metrics for f in m.collect()))

        def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
            if os.environ.get(MULTIPROCESS_DIR):
                super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]

    middleware = PrismDramatiqMetrics()
    broker.add_middleware(middleware)
    if boot_now:
        middleware.after_process_boot(broker)
