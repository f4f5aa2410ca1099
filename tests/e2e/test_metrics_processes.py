"""The metrics servers of the processes without HTTP of their own, as real processes:
`prism mailer` and `prism relay` serve theirs on METRICS_PORT, and `prism worker` (Dramatiq's
CLI, two worker processes) serves the sum of its processes' through Dramatiq's exposition
server there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated
from prism_platform.mail import OutgoingMail, enqueue_sync
from prism_tables.outbox import OutboxEvent
from tests.integration.mail.conftest import SmtpServer
from tests.support.backends import postgres_requested, redis_requested
from tests.support.dev_system import free_port
from tests.support.metrics import sample, value
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@contextmanager
def running(name: str, env: dict[str, str], folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`prism <name>` in its own process group (Dramatiq's CLI forks), stopped after."""
    with (folder / f"{name}.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prism_cli", name],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def scrape(port: int) -> str | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except httpx.TransportError:
        return None
    return response.text if response.status_code == 200 else None


def base_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PRISM_ENV", "REDIS_URL"}}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env | {"DATABASE_URL": database_url, "METRICS_HOST": "127.0.0.1"}


def test_the_mailer_serves_its_queue_and_outcomes_on_its_metrics_port(
    database_url: str, sync_engine: Engine, tmp_path: Path
) -> None:
    smtp = SmtpServer(free_port())
    smtp.start()
    port = free_port()
    with Session(sync_engine) as session, session.begin():
        enqueue_sync(
            session,
            OutgoingMail(
                to=["ops@prism.example"],
                subject="Metrics",
                text="Counted once sent.",
                idempotency_key=f"metrics-{uuid.uuid4()}",
            ),
        )
    env = base_env(database_url) | {
        "METRICS_PORT": str(port),
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "MAIL_POLL_INTERVAL": "0.1",
    }
    try:
        with running("mailer", env, tmp_path):

            def sent() -> bool:
                text = scrape(port)
                return (
                    text is not None
                    and value(text, "prism_mail_outcomes_total", outcome="sent") == 1
                )

            wait_until(sent, timeout=60, what="the mailer to count the message sent")
            text = scrape(port)
    finally:
        smtp.stop()

    assert text is not None
    assert len(smtp.received) == 1
    assert sample(text, "prism_mail_messages", status="PENDING") == 0
    assert sample(text, "prism_mail_messages", status="FAILED") == 0
    assert sample(text, "prism_mail_oldest_pending_age_seconds") == 0


@pytest.mark.timeout(400)
def test_the_relay_and_the_workers_serve_their_metrics_on_their_ports(
    database_url: str, sync_engine: Engine, tmp_path: Path
) -> None:
    redis_url = redis_requested()
    if redis_url is None or postgres_requested() is None:
        pytest.skip("the separate processes need PostgreSQL and Redis (make test's second pass)")
    relay_port, worker_port = free_port(), free_port()
    env = base_env(database_url) | {"REDIS_URL": redis_url, "RELAY_POLL_INTERVAL": "0.05"}
    with ExitStack() as stack:
        stack.enter_context(running("relay", env | {"METRICS_PORT": str(relay_port)}, tmp_path))
        worker_env = env | {
            "METRICS_PORT": str(worker_port),
            "WORKER_PROCESSES": "2",
            "WORKER_THREADS": "1",
        }
        stack.enter_context(running("worker", worker_env, tmp_path))
        # Slow on a loaded machine: the worker processes import everything before booting.
        wait_until(lambda: scrape(relay_port) is not None, timeout=120, what="the relay's metrics")
        wait_until(
            lambda: scrape(worker_port) is not None, timeout=180, what="the worker's metrics"
        )

        event = CustomerCreated(
            aggregate_id=str(uuid.uuid4()),
            partner_id=None,
            name="Metrics",
            domain=None,
            status="PROSPECT",
        )
        with Session(sync_engine) as session, session.begin():
            session.add(OutboxEvent(**OutboxEvent.values_of(event)))

        handled = {"actor_name": "customer.created"}

        def handled_once() -> bool:
            text = scrape(worker_port)
            return text is not None and value(text, "dramatiq_messages_total", **handled) == 1

        wait_until(handled_once, timeout=60, what="a worker process to count the message")
        relay_text = scrape(relay_port)
        worker_text = scrape(worker_port)

    assert relay_text is not None and worker_text is not None
    # Ours and the relay's own periodic safety check.
    assert value(relay_text, "prism_outbox_publish_lag_seconds_count") >= 1
    assert sample(relay_text, "prism_outbox_unsent_events") == 0
    assert sample(relay_text, "prism_dead_letters") is not None
    assert value(worker_text, "dramatiq_message_errors_total", **handled) == 0
    assert value(worker_text, "dramatiq_message_duration_milliseconds_count", **handled) == 1
