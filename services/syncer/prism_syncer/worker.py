"""Composition root of the sync worker: broker, database and actors, wired once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy import Engine

from prism_platform.broker import make_broker
from prism_platform.db import make_sync_engine
from prism_syncer import logs
from prism_syncer.actors import register_event_actors
from prism_syncer.handlers import handlers_for
from prism_syncer.settings import SyncerSettings


@dataclass
class SyncerApp:
    broker: dramatiq.Broker
    engine: Engine
    actors: dict[str, dramatiq.Actor[Any, Any]]


def build_syncer(
    settings: SyncerSettings,
    *,
    broker: dramatiq.Broker | None = None,
    engine: Engine | None = None,
) -> SyncerApp:
    broker = broker or make_broker(
        settings.redis_url,
        heartbeat_timeout_ms=int(settings.worker_heartbeat_timeout * 1000),
        maintenance_chance=settings.worker_maintenance_chance,
    )
    engine = engine or make_sync_engine(settings.database_url)
    dramatiq.set_broker(broker)
    logs.install(broker)  # each message's ids on the records of handling it
    actors = register_event_actors(broker, engine, handlers_for(settings))
    return SyncerApp(broker=broker, engine=engine, actors=actors)
