"""How fast a dead worker's work is taken over is a setting (defaults: Dramatiq's 60 s
heartbeat timeout and 1,000-in-a-million maintenance chance; a 300 s invoice sync lease)."""

from __future__ import annotations

from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import create_engine

from prism_platform.broker import make_broker
from prism_platform.links import Links
from prism_psa.connections import PsaConfig
from prism_syncer.invoices.handlers import sync_factory
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer

pytestmark = pytest.mark.unit

NOWHERE = "redis://127.0.0.1:1/0"  # never contacted: a broker connects on first use


def test_the_defaults_are_dramatiqs_and_the_leases_five_minutes() -> None:
    settings = SyncerSettings(database_url="sqlite://")
    broker = make_broker(NOWHERE)

    assert isinstance(broker, RedisBroker)
    assert (broker.heartbeat_timeout, broker.maintenance_chance) == (60_000, 1_000)
    assert settings.worker_heartbeat_timeout == 60
    assert settings.worker_maintenance_chance == 1_000
    assert settings.invoice_sync_lease_seconds == 300


@pytest.fixture
def global_broker_kept() -> Iterator[None]:
    """`build_syncer` sets Dramatiq's global broker; the next test gets the one before."""
    kept = dramatiq.broker.global_broker
    yield
    dramatiq.broker.global_broker = kept


@pytest.mark.usefixtures("global_broker_kept")
def test_a_deployment_may_take_over_a_dead_workers_work_sooner() -> None:
    settings = SyncerSettings(
        database_url="sqlite://",
        redis_url=NOWHERE,
        worker_heartbeat_timeout=3,
        worker_maintenance_chance=1_000_000,
        invoice_sync_lease_seconds=5,
    )
    broker = build_syncer(settings).broker
    config = PsaConfig.from_settings("k" * 40, None)
    sync = sync_factory(config, Links(), lease_seconds=settings.invoice_sync_lease_seconds)(
        create_engine("sqlite://")
    )

    assert isinstance(broker, RedisBroker)
    assert (broker.heartbeat_timeout, broker.maintenance_chance) == (3_000, 1_000_000)
    assert sync.lease_seconds == 5
