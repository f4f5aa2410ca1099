"""The production processes (`prism graph`, `prism relay`, `prism worker`, the Autotask
simulator) and a private Redis, as real processes on free loopback ports over one scratch
PostgreSQL database, each of which a test can kill, stop and start again.

The Redis server is the test's own (`redis-server` on a free port, append-only file on, as in
docker-compose.yml), so that restarting it disturbs nobody else. The worker is tuned to find
a dead worker's messages within seconds instead of a minute (WORKER_HEARTBEAT_TIMEOUT,
WORKER_MAINTENANCE_CHANCE) and to take over a dead worker's invoice sync jobs as quickly
(INVOICE_SYNC_LEASE_SECONDS); the relay stages the invoice sync's safety check every two
seconds (SAFETY_CHECK_INTERVAL). Everything else runs with its production defaults.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent
from tests.support.dev_system import free_port
from tests.support.psa import units_by_day
from tests.support.waiting import wait_until


class Process:
    """One service as a real process in a session of its own (Dramatiq's CLI forks: a
    signal goes to the whole group)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.argv, self.env, self.folder = name, argv, env, folder
        self.log = folder / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.popen is None or self.popen.poll() is not None, f"{self.name} is running"
        with self.log.open("a") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """kill -9: no clean-up, no goodbye to Redis or PostgreSQL."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """A clean stop (SIGTERM), as `docker compose stop` does."""
        self._signal(signal.SIGTERM)

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _signal(self, sig: signal.Signals) -> None:
        if not self.running():
            return
        assert self.popen is not None
        os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name}\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class System:
    base: str  # the API, http://127.0.0.1:PORT
    replica: str  # a second API process on the same database and broker ("graph-2")
    sim: str  # the Autotask simulator, http://127.0.0.1:PORT
    redis_url: str
    engine: Engine  # the scratch database, for reading what happened
    processes: dict[str, Process] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Process:
        return self.processes[name]

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.processes.values())

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        try:
            wait_until(condition, timeout=timeout, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    # -- the API ------------------------------------------------------------------------------

    def api_ready(self, base: str | None = None) -> bool:
        try:
            return httpx.get(f"{base or self.base}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def start_api(self) -> None:
        self["graph"].start()
        self.wait(self.api_ready, "prism graph to be ready", timeout=60)

    # -- Redis ----------------------------------------------------------------------------------

    def redis_up(self) -> bool:
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def queued(self) -> tuple[int, int]:
        """(events waiting in Redis's queue, events a worker fetched and has not acknowledged:
        Redis keeps those in the worker's own set until it acknowledges them)."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            waiting = int(client.llen("prism:events"))
            unacked = sum(int(client.scard(key)) for key in client.keys("prism:__acks__.*"))
        finally:
            client.close()
        return waiting, unacked

    def start_redis(self) -> None:
        self["redis"].start()
        self.wait(self.redis_up, "redis-server to answer")

    # -- the Autotask simulator's back door ------------------------------------------------------

    def sim_records(self, entity: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{self.sim}/_sim/records/{entity}").json()
        return found

    def add_fault(self, **fault: Any) -> None:
        httpx.post(f"{self.sim}/_sim/faults", json=fault).raise_for_status()

    def fault_hits(self) -> int:
        return sum(int(f["hits"]) for f in httpx.get(f"{self.sim}/_sim/faults").json())

    def clear_faults(self) -> None:
        """Remove every fault and let every held request go."""
        httpx.delete(f"{self.sim}/_sim/faults").raise_for_status()

    def units(self, contract_id: int, service_name: str, first: date, last: date) -> list[int]:
        """What Autotask bills the contract for the service on each day."""
        (service,) = [s for s in self.sim_records("Services") if s["name"] == service_name]
        services = {
            int(cs["id"])
            for cs in self.sim_records("ContractServices")
            if cs["contractID"] == contract_id and cs["serviceID"] == service["id"]
        }
        rows = [
            u
            for u in self.sim_records("ContractServiceUnits")
            if u["contractServiceID"] in services
        ]
        return units_by_day(rows, first, last)

    # -- the outbox and the inbox -----------------------------------------------------------------

    def delivered_once(self) -> bool:
        """Every outbox event is published and in the worker's inbox (one row per event id:
        its primary key), and the inbox holds nothing else; read in one snapshot."""
        with Session(self.engine) as session, session.begin():
            unpublished = session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
            )
            events = set(session.scalars(select(OutboxEvent.event_id)))
            handled = set(session.scalars(select(ProcessedEvent.event_id)))
        return unpublished == 0 and handled == events


@contextmanager
def running_system(
    database_url: str, folder: Path, prepare: Callable[[], None] = lambda: None
) -> Iterator[System]:
    """Start Redis and the simulator, `prepare()` (e.g. migrate the database) meanwhile, then
    two API processes, the relay and the worker; stop them all after."""
    redis_server = shutil.which("redis-server")
    assert redis_server is not None
    redis_port, api_port, sim_port = free_port(), free_port(), free_port()
    replica_port = free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    (folder / "redis").mkdir()
    env = {
        k: v for k, v in os.environ.items() if k not in {"PRISM_ENV", "PUBLIC_URL", "PORTAL_URL"}
    } | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HOST": "127.0.0.1",
        "PORT": str(api_port),
        "AUTOTASK_ZONE_PROBE_URL": f"http://127.0.0.1:{sim_port}/ATServicesRest/",
        "AUTOTASK_SIM_PORT": str(sim_port),
        "AUTOTASK_SIM_STATE": str(folder / "autotask-sim.sqlite3"),
        "RATE_LIMIT_NAMESPACE": f"prism-faults-{api_port}",
        "SAFETY_CHECK_INTERVAL": "2",
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "1",  # one thread: a held Autotask request holds the worker
        "WORKER_HEARTBEAT_TIMEOUT": "3",
        "WORKER_MAINTENANCE_CHANCE": "1000000",
        "INVOICE_SYNC_LEASE_SECONDS": "3",
    }
    commands = {
        "redis": [
            redis_server,
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder / "redis"),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        "simulator": [sys.executable, "-m", "autotask_sim"],
        "graph": [sys.executable, "-m", "prism_cli", "graph"],
        "graph-2": [sys.executable, "-m", "prism_cli", "graph"],
        "relay": [sys.executable, "-m", "prism_cli", "relay"],
        "worker": [sys.executable, "-m", "prism_cli", "worker"],
    }
    from prism_platform.db import make_sync_engine

    engine = make_sync_engine(database_url)
    envs = {"graph-2": env | {"PORT": str(replica_port)}}
    system = System(
        base=f"http://127.0.0.1:{api_port}",
        replica=f"http://127.0.0.1:{replica_port}",
        sim=f"http://127.0.0.1:{sim_port}",
        redis_url=redis_url,
        engine=engine,
        processes={
            name: Process(name, argv, envs.get(name, env), folder)
            for name, argv in commands.items()
        },
    )
    with ExitStack() as stack:
        stack.callback(engine.dispose)
        for process in system.processes.values():  # stopped last to first: Redis last
            stack.callback(process.stop)
        system["redis"].start()
        system["simulator"].start()
        prepare()
        for name in ("graph", "graph-2", "relay", "worker"):
            system[name].start()

        def sim_up() -> bool:
            try:
                return httpx.get(f"{system.sim}/_sim/faults", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        system.wait(system.redis_up, "redis-server to answer")
        system.wait(sim_up, "the Autotask simulator to answer")
        for base in (system.base, system.replica):
            system.wait(lambda b=base: system.api_ready(b), "prism graph to be ready", timeout=90)
        yield system
