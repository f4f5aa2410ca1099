"""Fixtures of the PSA sync's API tests: the API reaching the test's PSA side, and the
syncer's worker reaching it too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import dramatiq
import pytest
from sqlalchemy import Engine

from prism_graph.database import Database
from prism_platform.broker import EVENTS_QUEUE
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer
from tests.integration.sync.mapping_support import psa_api
from tests.support.backends import redis_requested
from tests.support.graphql import GraphQLClient
from tests.support.psa import CONNECTWISE_SETTINGS, TEST_SECRET_KEY, probe_url
from tests.support.sides import AutotaskSide, PsaSide


@pytest.fixture
async def side_api(
    database_url: str, database: Database, broker: dramatiq.Broker, psa_side: PsaSide
) -> AsyncIterator[GraphQLClient]:
    """The API reaching `psa_side`'s simulator for its live PSA calls (Autotask's zone probe
    on the Autotask side; a ConnectWise connection names its own site)."""
    autotask = psa_side.handle if isinstance(psa_side, AutotaskSide) else None
    async with psa_api(database_url, database, broker, autotask) as client:
        yield client


@pytest.fixture
def side_worker(
    database_url: str, broker: dramatiq.Broker, sync_engine: Engine, psa_side: PsaSide
) -> Iterator[dramatiq.Worker]:
    """The syncer's worker on the events queue, reaching `psa_side`'s simulator through the
    connection the API stored."""
    probe = probe_url(psa_side.handle) if isinstance(psa_side, AutotaskSide) else None
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
