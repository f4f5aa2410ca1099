"""What the PSA end-to-end tests share: the sync worker reaching the Autotask simulator as the
API does (the root `api` fixture; a module overrides `autotask` to play a variant)."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from autotask_sim import SimHandle
from prism_platform.broker import EVENTS_QUEUE
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer
from tests.support.backends import redis_requested
from tests.support.psa import CONNECTWISE_SETTINGS, TEST_SECRET_KEY, probe_url


@pytest.fixture
def psa_worker(
    database_url: str, broker: dramatiq.Broker, sync_engine: Engine, autotask: SimHandle
) -> Iterator[dramatiq.Worker]:
    """The sync worker, reaching the simulator as the API does."""
    settings = SyncerSettings(
        database_url=database_url,
        redis_url=redis_requested(),
        prism_env="test",
        autotask_zone_probe_url=probe_url(autotask),
        # The key the API (`api`) stores credentials with: the worker must read them.
        secret_key=SecretStr(TEST_SECRET_KEY),
        **CONNECTWISE_SETTINGS,
    )
    syncer = build_syncer(settings, broker=broker, engine=sync_engine)
    # A short poll, so that stopping it at teardown takes a tenth of a second, not two.
    worker = dramatiq.Worker(
        syncer.broker, worker_threads=2, queues={EVENTS_QUEUE}, worker_timeout=100
    )
    worker.start()
    yield worker
    worker.stop()
