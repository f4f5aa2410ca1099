"""Fixtures shared by the whole suite: the backend under test, the app, the broker, a worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, delete

from autotask_sim import SimHandle
from connectwise_sim import SimConfig as ConnectWiseConfig
from connectwise_sim import SimHandle as ConnectWiseHandle
from connectwise_sim import serve_in_thread as serve_connectwise
from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.outbox.relay import Relay
from prism_graph.outbox.signal import OutboxSignal
from prism_graph.settings import GraphSettings
from prism_platform.broker import EVENTS_QUEUE, make_broker
from prism_platform.db import Base, make_async_engine, make_sync_engine
from prism_platform.migrate import upgrade
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import SyncerApp, build_syncer
from tests.support.backends import redis_requested, scratch_database
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, make_tenants
from tests.support.psa import CONNECTWISE_SETTINGS, TEST_SECRET_KEY, probe_url, serve_simulator
from tests.support.sides import AutotaskSide, ConnectWiseSide, PsaSide

# Fixtures that touch the database or broker: tests using them run on every backend.
BACKEND_FIXTURES = {"database_url", "broker"}


#: Simulator variants that do not depend on the database or broker: run on the embedded
#: default only (the default variant runs on every backend).
SIMULATOR_ONLY_VARIANTS = {"at_next"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and (
            callspec.params.get("autotask") in SIMULATOR_ONLY_VARIANTS
            or str(callspec.params.get("side", "")).split(":")[-1] in SIMULATOR_ONLY_VARIANTS
        ):
            continue
        if BACKEND_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.backend)


def pytest_report_header() -> str:
    from tests.support.backends import postgres_requested

    return "prism backends: database={}, broker={}".format(
        "postgresql" if postgres_requested() else "sqlite",
        "redis" if redis_requested() else "in-process stub",
    )


@pytest.fixture(scope="session", autouse=True)
def fresh_psa_budget() -> None:
    """The Autotask request budget counts in Redis for an hour under one fixed key prefix,
    whatever the namespace: counters a previous run left in the test database would expire
    during this one and move the budgets tests read. Start each run without them."""
    url = redis_requested()
    if url is None:
        return
    import redis

    from prism_psa.limits import KEY_PREFIX

    server = redis.Redis.from_url(url)
    try:
        stale = list(server.scan_iter(f"{KEY_PREFIX}:*", count=1000))
        if stale:
            server.delete(*stale)
    finally:
        server.close()


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sync_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(migrated_url: str, sync_engine: Engine) -> Iterator[str]:
    """The migrated test database, emptied after each test."""
    yield migrated_url
    with sync_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


# argon2id at its cheapest: tests prove the logic, not the cost (docs: production parameters).
FAST_HASHING = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 8,
    "password_hash_parallelism": 1,
}


@pytest.fixture
def settings(database_url: str) -> GraphSettings:
    return GraphSettings(
        database_url=database_url,
        redis_url=redis_requested(),
        prism_env="test",
        # A fresh throttle per test: runs sharing one Redis never use up each other's budget.
        rate_limit_namespace=f"prism-test-{uuid.uuid4().hex[:10]}",
        **FAST_HASHING,
    )


@pytest.fixture
def syncer_settings(database_url: str) -> SyncerSettings:
    return SyncerSettings(database_url=database_url, redis_url=redis_requested(), prism_env="test")


@pytest.fixture
def outbox_signal() -> OutboxSignal:
    return OutboxSignal()


@pytest.fixture
async def database(database_url: str, outbox_signal: OutboxSignal) -> AsyncIterator[Database]:
    db = Database(make_async_engine(database_url), signal=outbox_signal)
    yield db
    await db.engine.dispose()


@pytest.fixture
def broker() -> Iterator[dramatiq.Broker]:
    """Redis (own namespace) when REDIS_URL is set, else the in-process stub broker."""
    url = redis_requested()
    namespace = f"prism-test-{uuid.uuid4().hex[:10]}"
    b = make_broker(url, namespace=namespace)
    yield b
    if isinstance(b, RedisBroker):
        keys = b.client.keys(f"{namespace}*")
        if keys:
            b.client.delete(*keys)
        b.client.close()
    b.close()


@pytest.fixture
def syncer(
    syncer_settings: SyncerSettings, broker: dramatiq.Broker, sync_engine: Engine
) -> SyncerApp:
    return build_syncer(syncer_settings, broker=broker, engine=sync_engine)


@pytest.fixture
def worker(syncer: SyncerApp) -> Iterator[dramatiq.Worker]:
    w = dramatiq.Worker(syncer.broker, worker_threads=2, queues={EVENTS_QUEUE}, worker_timeout=50)
    w.start()
    yield w
    w.stop()


def drain(broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    """Wait until every event message sent so far has been processed."""
    if isinstance(broker, StubBroker):
        broker.join(EVENTS_QUEUE, fail_fast=True)
    else:
        broker.join(EVENTS_QUEUE, timeout=30_000)
    worker.join()


@pytest.fixture
def relay(sync_engine: Engine, broker: dramatiq.Broker, outbox_signal: OutboxSignal) -> Relay:
    return Relay(sync_engine, broker, signal=outbox_signal)


@pytest.fixture
async def app(settings: GraphSettings, database: Database, broker: dramatiq.Broker) -> Any:
    return create_app(settings, database=database, broker=broker)


@pytest.fixture
async def anonymous(app: Any) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        yield GraphQLClient(http)


@pytest.fixture
async def tenants(database: Database) -> Tenants:
    return await make_tenants(database)


@pytest.fixture
def client(anonymous: GraphQLClient, tenants: Tenants) -> GraphQLClient:
    """Signed in as a distributor admin, who reaches every partner."""
    return anonymous.as_(tenants.distributor.admin)


@pytest.fixture
def autotask(tmp_path: Path) -> Iterator[SimHandle]:
    """A fresh Autotask simulator on a free loopback port."""
    with serve_simulator(tmp_path) as handle:
        yield handle


@pytest.fixture
def connectwise() -> Iterator[ConnectWiseHandle]:
    """A fresh ConnectWise simulator (seeded) on a free loopback port."""
    handle = serve_connectwise(config=ConnectWiseConfig())
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(params=["autotask:day_before", "autotask:at_next", "connectwise"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PsaSide]:
    """The PSA a test's program syncs to: Autotask under each way it may end a units row
    split by an adjustment (docs/psa-sync.md), or ConnectWise; each a fresh simulator served
    on loopback. For tests of the sync's timeline."""
    yield from _serve_side(request.param, tmp_path)


@pytest.fixture(params=["autotask", "connectwise"])
def psa_side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PsaSide]:
    """The PSA a test's program syncs to, Autotask or ConnectWise (a fresh simulator on
    loopback): for tests where how Autotask ends a units row does not matter."""
    yield from _serve_side(request.param, tmp_path)


def _serve_side(name: str, tmp_path: Path) -> Iterator[PsaSide]:
    if name == "connectwise":
        handle = serve_connectwise(config=ConnectWiseConfig())
        try:
            yield ConnectWiseSide(handle)
        finally:
            handle.stop()
        return
    row_end = name.split(":")[1] if ":" in name else "day_before"
    with serve_simulator(tmp_path, unit_row_end=row_end) as autotask:
        yield AutotaskSide(autotask)


@pytest.fixture
def any_side(request: pytest.FixtureRequest) -> PsaSide:
    """The test's PSA side, whichever of `side` and `psa_side` it asked for."""
    for name in ("side", "psa_side"):
        if name in request.fixturenames:
            found: PsaSide = request.getfixturevalue(name)
            return found
    raise pytest.UsageError("side_api and side_worker need the `side` or `psa_side` fixture")


@pytest.fixture
async def side_api(
    database_url: str, database: Database, broker: dramatiq.Broker, any_side: PsaSide
) -> AsyncIterator[GraphQLClient]:
    """The API reaching the test's PSA side (`psa_side` or `side`) for its live PSA calls
    (Autotask's zone probe on the Autotask side; a ConnectWise connection names its own
    site)."""
    from tests.integration.sync.mapping_support import psa_api  # it imports this module

    autotask = any_side.handle if isinstance(any_side, AutotaskSide) else None
    async with psa_api(database_url, database, broker, autotask) as client:
        yield client


@pytest.fixture
def side_worker(
    database_url: str, broker: dramatiq.Broker, sync_engine: Engine, any_side: PsaSide
) -> Iterator[dramatiq.Worker]:
    """The syncer's worker on the events queue, reaching the test's PSA side through the
    connection the API stored."""
    probe = probe_url(any_side.handle) if isinstance(any_side, AutotaskSide) else None
    syncer = build_syncer(
        SyncerSettings(
            database_url=database_url,
            redis_url=redis_requested(),
            prism_env="test",
            autotask_zone_probe_url=probe,
            secret_key=TEST_SECRET_KEY,  # the key the API encrypted the credentials with
            **CONNECTWISE_SETTINGS,
        ),
        broker=broker,
        engine=sync_engine,
    )
    worker = dramatiq.Worker(
        syncer.broker, worker_threads=1, queues={EVENTS_QUEUE}, worker_timeout=50
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
async def api(
    database_url: str, database: Database, broker: dramatiq.Broker, autotask: SimHandle
) -> AsyncIterator[GraphQLClient]:
    """The API reaching the Autotask simulator (`autotask`) for its live PSA calls."""
    from tests.integration.sync.mapping_support import psa_api  # it imports this module

    async with psa_api(database_url, database, broker, autotask) as client:
        yield client
