"""`prism dev` (what `make run` starts): the whole system in one process.

Migrates, loads the demo data, then runs the outbox relay and the sync worker in threads
beside the GraphQL API. With no REDIS_URL the broker is in-process, which is why they share
a process; with REDIS_URL set the same wiring runs on Redis (and `prism relay` / `prism worker`
can run as processes of their own, as in docker-compose.yml).
"""

from __future__ import annotations

import asyncio
import logging
import threading

import dramatiq
import uvicorn

from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.demo import load_demo_data
from prism_graph.outbox.relay import Relay
from prism_graph.outbox.signal import OutboxSignal
from prism_graph.settings import GraphSettings
from prism_platform.broker import EVENTS_QUEUE, broker_kind, make_broker
from prism_platform.db import make_async_engine, make_sync_engine
from prism_platform.logging import configure_logging
from prism_platform.migrate import upgrade
from prism_platform.settings import load_settings
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer

log = logging.getLogger("prism.dev")


def _seed(database_url: str) -> dict[str, int]:
    async def run() -> dict[str, int]:
        database = Database(make_async_engine(database_url))
        try:
            return await load_demo_data(database)
        finally:
            await database.engine.dispose()

    return asyncio.run(run())


def run_dev(*, seed: bool = True) -> int:
    graph_settings = load_settings(GraphSettings)
    syncer_settings = load_settings(SyncerSettings)
    configure_logging(graph_settings.log_level)

    upgrade(graph_settings.database_url)
    if seed:
        created = _seed(graph_settings.database_url)
        log.info("demo data ready (%s)", ", ".join(f"{v} {k} created" for k, v in created.items()))

    broker = make_broker(graph_settings.redis_url)
    sync_engine = make_sync_engine(graph_settings.database_url)
    build_syncer(syncer_settings, broker=broker, engine=sync_engine)
    worker = dramatiq.Worker(
        broker, worker_threads=syncer_settings.worker_threads, queues={EVENTS_QUEUE}
    )
    signal = OutboxSignal()
    relay = Relay(
        sync_engine,
        broker,
        batch_size=graph_settings.relay_batch_size,
        poll_interval=graph_settings.relay_poll_interval,
        signal=signal,
    )
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,), name="outbox-relay")

    database = Database(make_async_engine(graph_settings.database_url), signal=signal)
    app = create_app(graph_settings, database=database, broker=broker)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=graph_settings.host,
            port=graph_settings.port,
            log_level=graph_settings.log_level.lower(),
            lifespan="on",
        )
    )
    worker.start()
    relay_thread.start()
    _banner(graph_settings, broker)
    try:
        server.run()
    finally:
        stop.set()
        relay_thread.join(timeout=10)
        worker.stop()
        sync_engine.dispose()
    return 0


def _banner(settings: GraphSettings, broker: dramatiq.Broker) -> None:
    base = settings.base_url
    lines = [
        "",
        "Prism is starting:",
        f"  GraphQL API   {base}/graphql"
        + ("   (GraphiQL: open it in a browser)" if settings.graphiql_enabled else ""),
        f"  health        {base}/healthz   readiness {base}/readyz",
        f"  database      {settings.database_url}",
        f"  broker        {broker_kind(broker)}; outbox relay and sync worker run in this process",
        "  demo data     partners 'Contoso Cloud Partners' and 'Northwind MSP' with customers",
        "  try           curl -s " + base + "/graphql -H 'content-type: application/json' "
        '-d \'{"query":"{ customers(first: 5) { edges { node { name owner { name } } } } }"}\'',
        "",
    ]
    print("\n".join(lines), flush=True)
