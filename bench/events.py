"""Benchmark (issue 15, N2 at scale): from the commit of an event in the outbox to the
worker handling it, on PostgreSQL and Redis, with the relay and the worker as real processes.

    DATABASE_URL=postgresql://... REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/events.py [--events 2000] [--rate 50] [--setups 1x1,3x2]

For each setup RELAYSxWORKERS it starts, on a scratch database of its own, RELAYS
`prism relay` processes and a `prism worker` (Dramatiq's CLI) with WORKERS processes of 4
threads each, then commits `--events` `customer.created` events through the API's real unit
of work (`Database.unit_of_work`, `record`, `commit`: the outbox row and its NOTIFY in one
transaction), 4 committers at once, paced at `--rate` events a second in all. The latency of
an event is from the moment its commit returned to the `processed_at` its inbox row was
written with, in the worker's transaction that runs the handler (the same machine's clock).
It prints p50, p90, p99 and the maximum, and then counts: inbox rows (every event handled
exactly once: one row each, none missing), outbox rows left unsent, and the redeliveries the
workers skipped as already handled (from their logs). The Redis database of REDIS_URL is
emptied first: give the bench one of its own. A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from typing import IO

import redis
from scratch import postgres_server, scratch_database
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from prism_domain.customers import CustomerCreated
from prism_graph.database import Database
from prism_platform.db import make_async_engine
from prism_platform.migrate import upgrade
from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent

COMMITTERS = 4
WORKER_THREADS = 4
START_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 120.0


def start(
    stack: ExitStack, name: str, argv: list[str], env: dict[str, str], logs: Path
) -> subprocess.Popen[bytes]:
    log: IO[str] = stack.enter_context((logs / f"{name}.log").open("w"))
    process = subprocess.Popen(
        argv,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Dramatiq's CLI forks: stop the whole group
    )

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)

    stack.callback(stop)
    return process


async def inbox_count(engine: AsyncEngine) -> int:
    """The bench's events handled (the relay's periodic events go through the inbox too)."""
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(ProcessedEvent)
                .where(ProcessedEvent.type == CustomerCreated.type)
            )
            or 0
        )


async def wait_for(engine: AsyncEngine, count: int, seconds: float) -> bool:
    """Poll (bounded) until the inbox holds `count` rows."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await inbox_count(engine) >= count:
            return True
        await asyncio.sleep(0.05)
    return False


async def emit(database: Database, n: int, rate: float) -> dict[str, float]:
    """Commit `n` events, paced at `rate` a second over COMMITTERS tasks; each event's
    commit time (epoch seconds) by event id."""
    committed: dict[str, float] = {}
    began = time.monotonic()

    async def committer(offset: int) -> None:
        for i in range(offset, n, COMMITTERS):
            due = began + i / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            event = CustomerCreated(
                aggregate_id=str(i), partner_id=None, name=f"Bench {i}", domain=None, status="A"
            )
            async with database.unit_of_work() as uow:
                uow.record(event)
                await uow.commit()
            committed[str(event.event_id)] = time.time()

    await asyncio.gather(*(committer(k) for k in range(COMMITTERS)))
    return committed


def log_tail(logs: Path) -> str:
    return "\n".join(p.read_text()[-2000:] for p in logs.glob("*.log"))


def redeliveries_skipped(logs: Path) -> int:
    return sum(p.read_text().count("already handled") for p in logs.glob("worker*.log"))


def percentile(sorted_values: list[float], p: float) -> float:
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def run_setup(relays: int, workers: int, events: int, rate: float, redis_url: str) -> None:
    redis.Redis.from_url(redis_url).flushdb()
    with scratch_database("prism_bench_events") as url, ExitStack() as stack:
        upgrade(url)
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prism-events-")))
        env = {k: v for k, v in os.environ.items() if k != "PRISM_ENV"} | {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "WORKER_PROCESSES": str(workers),
            "WORKER_THREADS": str(WORKER_THREADS),
            "RATE_LIMIT_NAMESPACE": f"prism-bench-{uuid.uuid4().hex[:8]}",
            "LOG_LEVEL": "INFO",
        }
        cli = [sys.executable, "-m", "prism_cli"]
        for r in range(relays):
            start(stack, f"relay{r}", [*cli, "relay"], env, logs)
        start(stack, "worker", [*cli, "worker"], env, logs)

        engine = make_async_engine(url, pool_size=COMMITTERS + 2)
        database = Database(engine)
        try:
            # Warm up: everything is listening once one event has gone through.
            await emit(database, 1, rate)
            if not await wait_for(engine, 1, START_TIMEOUT_S):
                tail = log_tail(logs)
                print(f"  {relays}x{workers}: nothing handled in {START_TIMEOUT_S:.0f} s\n{tail}")
                return
            started = time.monotonic()
            committed = await emit(database, events, rate)
            emitting = time.monotonic() - started
            drained = await wait_for(engine, events + 1, DRAIN_TIMEOUT_S)
            total = time.monotonic() - started
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        select(ProcessedEvent.event_id, ProcessedEvent.processed_at).where(
                            ProcessedEvent.event_id.in_(list(committed))
                        )
                    )
                ).all()
                unsent = int(
                    await conn.scalar(
                        select(func.count())
                        .select_from(OutboxEvent)
                        .where(
                            OutboxEvent.published_at.is_(None),
                            OutboxEvent.type == CustomerCreated.type,
                        )
                    )
                    or 0
                )
        finally:
            await engine.dispose()
        skipped = redeliveries_skipped(logs)
        latencies = sorted(
            (as_epoch(processed_at) - committed[str(event_id)]) * 1000
            for event_id, processed_at in rows
        )
        seen = {str(event_id) for event_id, _ in rows}
        missing = len(set(committed) - seen)
        print(
            f"{relays:>6} {workers:>7} {len(committed):>6} {emitting:>6.1f} "
            f"{len(committed) / total:>7.0f} {statistics.median(latencies):>7.1f} "
            f"{percentile(latencies, 90):>7.1f} {percentile(latencies, 99):>7.1f} "
            f"{latencies[-1]:>8.1f} {len(rows):>6} {missing:>7} {unsent:>6} {skipped:>7}"
            + ("" if drained else "  (not drained in time)")
        )


def as_epoch(moment: datetime) -> float:
    return moment.timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="events a second, in all")
    parser.add_argument(
        "--setups", default="1x1,3x2", help="RELAYSxWORKER_PROCESSES, comma-separated"
    )
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL")
    if postgres_server() is None or not redis_url:
        sys.exit("bench/events.py needs DATABASE_URL (PostgreSQL) and REDIS_URL (its own db)")
    print(
        f"prism bench events: PostgreSQL + Redis, {args.events} customer.created events at "
        f"{args.rate:.0f}/s from {COMMITTERS} committers; relays and workers are processes "
        f"(each worker process {WORKER_THREADS} threads); latency = commit returned -> "
        "inbox row written by the handler's transaction"
    )
    print(
        f"{'relays':>6} {'workers':>7} {'events':>6} {'emit s':>6} {'ev/s':>7} {'p50 ms':>7} "
        f"{'p90 ms':>7} {'p99 ms':>7} {'max ms':>8} {'inbox':>6} {'missing':>7} "
        f"{'unsent':>6} {'skipped':>7}"
    )
    for setup in args.setups.split(","):
        relays, _, workers = setup.partition("x")
        asyncio.run(run_setup(int(relays), int(workers), args.events, args.rate, redis_url))
    print(
        "inbox: rows for the events sent (one per event id: the primary key); missing: sent "
        "but never handled; unsent: outbox rows not published; skipped: redeliveries the "
        "workers found already handled (exactly once: handled twice is impossible by the "
        "inbox's key, so a redelivery shows here)."
    )


if __name__ == "__main__":
    main()
