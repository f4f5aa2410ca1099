"""`prism dev` (what `make run` starts): the whole system in one process.

Migrates, loads the demo data, then runs the outbox relay, the sync worker, the mail sender
and a local SMTP sink in threads beside the GraphQL API. With no REDIS_URL the broker is
in-process, which is why they share a process; with REDIS_URL set the same wiring runs on
Redis (and `prism relay` / `prism worker` / `prism mailer` can run as processes of their own,
as in docker-compose.yml).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import dramatiq
import uvicorn
from pydantic import Field, SecretStr

from autotask_sim.config import DEFAULT_USERNAME
from autotask_sim.server import serve_in_thread
from connectwise_sim import DEFAULT_CLIENT_ID as CONNECTWISE_SIM_CLIENT_ID
from connectwise_sim import DEFAULT_COMPANY_ID as CONNECTWISE_SIM_COMPANY
from connectwise_sim import DEFAULT_PORT as CONNECTWISE_SIM_PORT
from connectwise_sim import SimConfig as ConnectWiseSimConfig
from connectwise_sim import serve_in_thread as serve_connectwise
from prism_cli import demo_sync
from prism_cli.dev_help import DEFAULT_SIMULATOR_PORT
from prism_graph.app import build_identity, create_app
from prism_graph.database import Database
from prism_graph.demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
from prism_graph.identity.secrets import Passwords
from prism_graph.mail.metrics import watch_mail
from prism_graph.mail.outbox import MailSignal
from prism_graph.mail.runner import build_sender, start_dev_sink
from prism_graph.mail.settings import MailSettings
from prism_graph.outbox.metrics import watch_outbox
from prism_graph.outbox.relay import Relay
from prism_graph.outbox.schedule import relay_schedules
from prism_graph.outbox.signal import OutboxSignal
from prism_graph.settings import GraphSettings
from prism_graph.sync.config import build_psa_config
from prism_platform.broker import EVENTS_QUEUE, broker_kind, make_broker
from prism_platform.db import make_async_engine, make_sync_engine
from prism_platform.logging import configure_logging
from prism_platform.metrics import dramatiq_metrics
from prism_platform.migrate import upgrade
from prism_platform.settings import CommonSettings, load_settings
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer

log = logging.getLogger("prism.dev")


class DevSettings(CommonSettings):
    """What only `prism dev` starts: the local Autotask and ConnectWise simulators."""

    autotask_sim_port: int = Field(
        DEFAULT_SIMULATOR_PORT, ge=0, le=65535, description="0: any free port"
    )
    autotask_sim_state: Path = Field(Path("var/autotask-sim.sqlite3"))
    connectwise_sim_port: int = Field(
        CONNECTWISE_SIM_PORT, ge=0, le=65535, description="0: any free port"
    )
    connectwise_sim_state: Path = Field(Path("var/connectwise-sim.sqlite3"))


def seed(settings: GraphSettings) -> dict[str, int]:
    passwords = Passwords(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )

    async def run() -> dict[str, int]:
        database = Database(make_async_engine(settings.database_url))
        try:
            return await load_demo_data(database, passwords)
        finally:
            await database.engine.dispose()

    return asyncio.run(run())


def run_dev(*, seed_demo: bool = True) -> int:
    graph_settings = load_settings(GraphSettings)
    syncer_settings = load_settings(SyncerSettings)
    mail_settings = load_settings(MailSettings)
    dev_settings = load_settings(DevSettings)
    # One address for every part's links (S8): the API's, as this process serves it.
    links = graph_settings.links
    address = {
        "host": graph_settings.host,
        "port": graph_settings.port,
        "public_url": links.public_url,
        "portal_url": links.portal,
    }
    syncer_settings = syncer_settings.model_copy(update=address)
    mail_settings = mail_settings.model_copy(update=address)
    configure_logging(graph_settings.log_level, graph_settings.log_format)

    upgrade(graph_settings.database_url)
    if seed_demo:
        created = seed(graph_settings)
        log.info("demo data ready (%s)", ", ".join(f"{v} {k} created" for k, v in created.items()))

    with ExitStack() as cleanup:
        dev_settings.autotask_sim_state.parent.mkdir(parents=True, exist_ok=True)
        simulator = serve_in_thread(
            "127.0.0.1", dev_settings.autotask_sim_port, dev_settings.autotask_sim_state
        )
        cleanup.callback(simulator.stop)
        cw_sim_config = ConnectWiseSimConfig.from_env()
        cw_sim_config.state_path = str(dev_settings.connectwise_sim_state)
        connectwise = serve_connectwise(
            "127.0.0.1", dev_settings.connectwise_sim_port, config=cw_sim_config
        )
        cleanup.callback(connectwise.stop)
        # ConnectWise is the local simulator too: its clientId, and its http loopback site.
        if graph_settings.connectwise_client_id is None:
            cw = {
                "connectwise_client_id": SecretStr(CONNECTWISE_SIM_CLIENT_ID),
                "connectwise_allow_http_loopback": True,
            }
            graph_settings = graph_settings.model_copy(update=cw)
            syncer_settings = syncer_settings.model_copy(update=cw)
        # Unless told otherwise, Autotask is the local simulator: the connection test, the
        # pickers and the sync all find their zone there (S1).
        probe = {"autotask_zone_probe_url": simulator_probe_url(simulator.url)}
        if graph_settings.autotask_zone_probe_url is None:
            graph_settings = graph_settings.model_copy(update=probe)
        if syncer_settings.autotask_zone_probe_url is None:
            syncer_settings = syncer_settings.model_copy(update=probe)
        if seed_demo:
            seed_demo_sync(graph_settings, connectwise_site=connectwise.url)
        _serve(
            graph_settings,
            syncer_settings,
            mail_settings,
            simulator.url,
            cleanup,
            connectwise_url=connectwise.url,
        )
    return 0


def seed_demo_sync(settings: GraphSettings, *, connectwise_site: str | None = None) -> None:
    """The demo partners' connections (Autotask, and ConnectWise at `connectwise_site`),
    mappings, last month's invoices and a price rise (see `demo_sync`); the worker syncs the
    invoices and the new price once it starts."""
    config = build_psa_config(settings)
    today = date.today()

    async def run() -> None:
        database = Database(make_async_engine(settings.database_url))
        engine = make_sync_engine(settings.database_url)
        try:
            demos = await demo_sync.prepare(
                database, config, today, connectwise_site=connectwise_site
            )
            for demo in demos:
                await asyncio.to_thread(demo_sync.sync_products, engine, config, demo)
            if demos:
                await demo_sync.raise_price(database, today)
        finally:
            await database.engine.dispose()
            engine.dispose()

    asyncio.run(run())


def simulator_probe_url(simulator_url: str) -> str:
    """Where the Autotask client asks the simulator for a user's zone (as it asks Autotask)."""
    return simulator_url.rstrip("/") + "/ATServicesRest/"


def _serve(
    graph_settings: GraphSettings,
    syncer_settings: SyncerSettings,
    mail_settings: MailSettings,
    simulator_url: str,
    cleanup: ExitStack,
    *,
    connectwise_url: str | None = None,
) -> None:
    broker = make_broker(graph_settings.redis_url)
    sync_engine = make_sync_engine(graph_settings.database_url)
    build_syncer(syncer_settings, broker=broker, engine=sync_engine)
    # One process: the API's /metrics shows the worker's, the relay's and the mailer's too.
    dramatiq_metrics(broker, boot_now=True)
    watch_outbox(sync_engine, broker)
    watch_mail(sync_engine)
    worker = dramatiq.Worker(
        broker, worker_threads=syncer_settings.worker_threads, queues={EVENTS_QUEUE}
    )
    outbox_signal, mail_signal = OutboxSignal(), MailSignal()
    relay = Relay(
        sync_engine,
        broker,
        batch_size=graph_settings.relay_batch_size,
        poll_interval=graph_settings.relay_poll_interval,
        signal=outbox_signal,
        retention=timedelta(days=graph_settings.outbox_retention_days),
        schedules=relay_schedules(
            graph_settings.safety_check_interval, graph_settings.webhooks_sweep_interval
        ),
    )
    sender = build_sender(mail_settings, sync_engine, signal=mail_signal)
    stop = threading.Event()
    threads = [
        threading.Thread(target=relay.run, args=(stop,), name="outbox-relay"),
        threading.Thread(target=sender.run, args=(stop,), name="mail-sender"),
    ]
    database = Database(make_async_engine(graph_settings.database_url), signal=outbox_signal)
    app = create_app(
        graph_settings,
        database=database,
        broker=broker,
        identity=build_identity(graph_settings, mail_signal),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=graph_settings.host,
            port=graph_settings.port,
            log_level=graph_settings.log_level.lower(),
            log_config=None,  # uvicorn's records go through configure_logging's handler
            lifespan="on",
        )
    )
    sink = start_dev_sink(mail_settings)
    cleanup.callback(sink.stop)
    worker.start()
    cleanup.callback(worker.stop)
    for thread in threads:
        thread.start()

    def stop_threads() -> None:
        stop.set()
        outbox_signal.notify()
        sender.wake()
        for thread in threads:
            thread.join(timeout=10)

    cleanup.callback(stop_threads)
    cleanup.callback(sync_engine.dispose)
    print(
        banner(
            graph_settings,
            mail_settings,
            broker_kind(broker),
            sink.port,
            simulator_url,
            connectwise_url=connectwise_url,
        ),
        flush=True,
    )
    server.run()


def banner(
    settings: GraphSettings,
    mail: MailSettings,
    broker: str,
    sink_port: int,
    simulator_url: str,
    *,
    connectwise_url: str | None = None,
) -> str:
    """What `prism dev` prints once everything runs: every address it serves."""
    links = settings.links
    base = links.public_url
    graphiql = (
        f"{links.graphql()}   (open it in a browser)"
        if settings.graphiql_enabled
        else "off (GRAPHIQL=false)"
    )
    portal = links.portal if links.has_portal else f"none: {base} answers the portal's links"
    syncs_to = {p.name: p.psa.label for p in demo_sync.DEMO_PARTNERS}
    logins = "\n".join(
        (
            f"                {email:<34}"
            + (f" {org}, syncs to {syncs_to[org]}" if org in syncs_to else "")
        ).rstrip()
        for org, email, _, _ in DEMO_USERS
    )
    lines = [
        "",
        "Prism is running:",
        f"  GraphQL API   {links.graphql()}   (HOST={settings.host} PORT={settings.port})",
        f"  GraphiQL      {graphiql}",
        f"  health        {base}/healthz   readiness {base}/readyz   metrics {base}/metrics",
        f"  links         every mailed link starts with {base} (PUBLIC_URL); portal: {portal}",
        f"  mail sink     SMTP on {mail.mail_sink_host}:{sink_port} (SMTP_PORT), stored in "
        f"{mail.mail_sink_dir}",
        "                read it: .venv/bin/prism mail list, then .venv/bin/prism mail show ID",
        f"  Autotask      simulator at {simulator_url} (AUTOTASK_SIM_PORT; user "
        f"{DEFAULT_USERNAME}, secret and integration code: docs/autotask.md)",
        *(
            [
                f"  ConnectWise   simulator at {connectwise_url} (CONNECTWISE_SIM_PORT; company "
                f"{CONNECTWISE_SIM_COMPANY}, keys: docs/connectwise.md)"
            ]
            if connectwise_url
            else []
        ),
        f"  database      {settings.database_url}",
        f"  broker        {broker}; outbox relay, sync worker and mail sender run here",
        f"  demo logins   password '{DEMO_PASSWORD}' for each of:",
        logins,
        '  sign in       mutation { signIn(input: {email: "admin@contoso-partners.example", '
        f'password: "{DEMO_PASSWORD}"}}) {{ accessToken }} }}',
        "                then send 'Authorization: Bearer <accessToken>' with each request",
        "",
    ]
    return "\n".join(lines)
