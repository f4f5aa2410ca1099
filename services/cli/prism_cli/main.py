"""`prism <command>`: run, migrate and inspect Prism. `prism --help` lists the commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from prism_cli.check import add_parser as add_check_parser  # argparse only too
from prism_cli.first_admin import add_parser as add_first_admin_parser  # argparse only too
from prism_cli.queue import add_parser as add_queue_parser  # argparse only, as sync's
from prism_cli.sync import add_parser as add_sync_parser  # argparse only: commands load lazily
from prism_platform.settings import ConfigError


def _cmd_migrate(_: argparse.Namespace) -> int:
    from prism_graph.settings import GraphSettings
    from prism_platform.migrate import upgrade
    from prism_platform.settings import load_settings

    settings = load_settings(GraphSettings)
    upgrade(settings.database_url)
    print("database migrated to the latest revision")
    return 0


def _cmd_seed(_: argparse.Namespace) -> int:
    from prism_cli.dev import seed
    from prism_graph.settings import GraphSettings
    from prism_platform.settings import load_settings

    created = seed(load_settings(GraphSettings))
    print("demo data: " + ", ".join(f"{v} {k} created" for k, v in created.items()))
    return 0


def _cmd_graph(_: argparse.Namespace) -> int:
    import uvicorn

    from prism_graph.app import create_app
    from prism_graph.settings import GraphSettings
    from prism_platform.broker import make_broker
    from prism_platform.logging import configure_logging
    from prism_platform.settings import load_settings

    settings = load_settings(GraphSettings)
    configure_logging(settings.log_level, settings.log_format)
    broker = make_broker(settings.redis_url) if settings.redis_url else None
    app = create_app(settings, broker=broker)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's records go through configure_logging's handler
    )
    return 0


def _cmd_relay(_: argparse.Namespace) -> int:
    import signal
    import threading
    from datetime import timedelta

    from prism_graph.outbox.metrics import watch_outbox
    from prism_graph.outbox.relay import Relay
    from prism_graph.outbox.schedule import relay_schedules
    from prism_graph.settings import GraphSettings
    from prism_platform.broker import make_broker
    from prism_platform.db import make_sync_engine
    from prism_platform.logging import configure_logging
    from prism_platform.metrics import serve as serve_metrics
    from prism_platform.settings import load_settings

    settings = load_settings(GraphSettings)
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        raise ConfigError(
            "REDIS_URL: the relay runs as its own process only with Redis; "
            "without it, `prism dev` runs the relay in-process"
        )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine, broker = make_sync_engine(settings.database_url), make_broker(settings.redis_url)
    watch_outbox(engine, broker)
    serve_metrics(settings.metrics_host, settings.metrics_port)
    relay = Relay(
        engine,
        broker,
        batch_size=settings.relay_batch_size,
        poll_interval=settings.relay_poll_interval,
        retention=timedelta(days=settings.outbox_retention_days),
        schedules=relay_schedules(settings.safety_check_interval, settings.webhooks_sweep_interval),
    )
    relay.run(stop)
    return 0


WORKER_FORK_TIMEOUT_MS = 300_000


def _cmd_worker(args: argparse.Namespace) -> int:
    from prism_platform.metrics import worker_environment
    from prism_platform.settings import load_settings
    from prism_syncer.settings import SyncerSettings

    settings = load_settings(SyncerSettings)
    if not settings.redis_url:
        raise ConfigError(
            "REDIS_URL: the worker runs as its own process only with Redis; "
            "without it, `prism dev` runs the worker in-process"
        )
    from prism_platform.logging import resolve_format

    # Dramatiq's processes log through a pipe to this one: decide text or JSON by this
    # process's stderr, and let `prism_syncer.entry` format every record (no basicConfig).
    os.environ["LOG_FORMAT"] = resolve_format(settings.log_format, sys.stderr)
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "prism_syncer.entry",
        "--skip-logging",
        "--processes",
        str(settings.worker_processes),
        "--threads",
        str(settings.worker_threads),
        "--queues",
        "events",
        # Dramatiq starts its metrics server only once every worker process has booted, and
        # gives up waiting after 30 s by default: a slow start would leave it out for good.
        "--worker-fork-timeout",
        str(WORKER_FORK_TIMEOUT_MS),
    ]
    # METRICS_PORT: Dramatiq's processes share their metrics, served by its own server there.
    os.environ.update(worker_environment(settings.metrics_host, settings.metrics_port))
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with Dramatiq's CLI
    return 0  # pragma: no cover


def _cmd_dev(args: argparse.Namespace) -> int:
    from prism_cli.dev import run_dev

    return run_dev(seed_demo=not args.no_seed)


def _cmd_mailer(_: argparse.Namespace) -> int:
    import signal
    import threading

    from prism_graph.mail.metrics import watch_mail
    from prism_graph.mail.runner import build_sender
    from prism_graph.mail.settings import MailSettings
    from prism_platform.db import make_sync_engine
    from prism_platform.logging import configure_logging
    from prism_platform.metrics import serve as serve_metrics
    from prism_platform.settings import load_settings

    settings = load_settings(MailSettings)
    configure_logging(settings.log_level, settings.log_format)
    engine = make_sync_engine(settings.database_url)
    watch_mail(engine)
    serve_metrics(settings.metrics_host, settings.metrics_port)
    sender = build_sender(settings, engine)
    stop = threading.Event()

    def shut_down(*_: object) -> None:
        stop.set()
        sender.wake()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, shut_down)
    sender.run(stop)
    return 0


def _cmd_mail_list(_: argparse.Namespace) -> int:
    from prism_graph.mail.runner import received_mail_report
    from prism_graph.mail.settings import MailSettings
    from prism_platform.settings import load_settings

    print(received_mail_report(load_settings(MailSettings)), end="")
    return 0


def _cmd_mail_show(args: argparse.Namespace) -> int:
    from prism_graph.mail.runner import received_mail
    from prism_graph.mail.settings import MailSettings
    from prism_graph.mail.sink import UnknownMail
    from prism_platform.settings import load_settings

    try:
        print(received_mail(load_settings(MailSettings), args.id), end="")
    except UnknownMail as exc:
        print(f"prism mail show: {exc.args[0]}", file=sys.stderr)
        return 2
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from prism_graph.schema import sdl

    text = sdl()
    path = Path(args.path)
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run `make schema`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    if args.write:
        path.write_text(text)
        print(f"wrote {path}")
        return 0
    sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prism", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=_cmd_migrate)
    sub.add_parser("seed", help="load the demo data (idempotent)").set_defaults(fn=_cmd_seed)
    sub.add_parser("graph", help="serve the GraphQL API").set_defaults(fn=_cmd_graph)
    sub.add_parser("relay", help="publish outbox events to Redis").set_defaults(fn=_cmd_relay)
    sub.add_parser("worker", help="run the sync worker (Dramatiq)").set_defaults(fn=_cmd_worker)
    sub.add_parser("mailer", help="send queued e-mail over SMTP").set_defaults(fn=_cmd_mailer)
    mail = sub.add_parser("mail", help="the development mail sink")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True, metavar="MAIL_COMMAND")
    mail_sub.add_parser("list", help="list what the local sink received").set_defaults(
        fn=_cmd_mail_list
    )
    show = mail_sub.add_parser(
        "show",
        help="one received message: headers, text, links, attachments",
        description="Show one message the local sink received (MAIL_SINK_DIR): its headers, "
        "its text, every link in it and its attachments (name, type, size).",
    )
    show.add_argument("id", help="the message's id from `prism mail list` (or its start)")
    show.set_defaults(fn=_cmd_mail_show)
    from prism_cli.dev_help import ADDRESSES_HELP

    dev = sub.add_parser(
        "dev",
        help="migrate, seed and run everything in one process (what `make run` starts)",
        description="Migrate, load the demo data and run the whole system in one process: "
        "the GraphQL API (with GraphiQL and Prism's pages), the outbox relay, the sync worker, "
        "the mail sender, a local SMTP sink and the Autotask simulator. It prints every "
        "address it serves once it runs.",
        epilog=ADDRESSES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dev.add_argument("--no-seed", action="store_true", help="skip the demo data")
    dev.set_defaults(fn=_cmd_dev)
    schema = sub.add_parser("schema", help="print, write or check the GraphQL SDL")
    schema.add_argument("--path", default="schema.graphql")
    group = schema.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="write the SDL to --path")
    group.add_argument("--check", action="store_true", help="fail when --path is stale")
    schema.set_defaults(fn=_cmd_schema)
    add_sync_parser(sub)
    add_first_admin_parser(sub)
    add_queue_parser(sub)
    add_check_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        print(f"prism: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
