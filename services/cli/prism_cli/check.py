"""`prism check`: does this deployment's configuration work, end to end?

It reads the settings as every process does (the environment and `.env`) and checks each
thing a process needs, printing one line per check with `ok` or `FAIL` and the reason:
the settings parse, SECRET_KEY, PUBLIC_URL and PORTAL_URL, the rules of production, the
database (reachable, at the migration head), the broker and the SMTP server (connect,
EHLO, STARTTLS and login when configured, NOOP; no mail is sent). `--mailer` checks only
what the mail sender needs, which makes it the mailer's health check (it serves no HTTP).

Exit codes: 0 every check passed; 1 at least one failed; 2 bad arguments.

Only argparse is imported here, so that `prism --help` stays fast.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

    from prism_graph.mail.settings import MailSettings
    from prism_graph.settings import GraphSettings

EXIT_CODES = "exit codes: 0 every check passed; 1 a check failed; 2 bad arguments"
TIMEOUT_S = 5.0
MIN_SECRET_KEY = 32


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # "ok", "FAIL" or "skip" (not checked because an earlier check failed)
    detail: str

    @property
    def failed(self) -> bool:
        return self.status != "ok"


def ok(name: str, detail: str) -> Result:
    return Result(name, "ok", detail)


def fail(name: str, detail: str) -> Result:
    return Result(name, "FAIL", detail)


@dataclass(frozen=True)
class Loaded:
    mail: MailSettings  # what every process shares (CommonSettings) and the mailer's own
    graph: GraphSettings | None  # None with --mailer


def _load(mailer_only: bool) -> tuple[Loaded | None, Result]:
    from prism_graph.mail.settings import MailSettings
    from prism_graph.settings import GraphSettings
    from prism_platform.settings import ConfigError, load_settings
    from prism_syncer.settings import SyncerSettings

    classes: dict[str, type[BaseSettings]] = {"mailer": MailSettings}
    if not mailer_only:
        classes = {"API and relay": GraphSettings, "worker": SyncerSettings, **classes}
    loaded: dict[str, BaseSettings] = {}
    for who, cls in classes.items():
        try:
            loaded[who] = load_settings(cls)
        except ConfigError as exc:
            return None, fail("settings", f"the {who}'s settings do not parse: {exc}")
    mail = loaded["mailer"]
    graph = loaded.get("API and relay")
    assert isinstance(mail, MailSettings) and (graph is None or isinstance(graph, GraphSettings))
    names = ", ".join(classes)
    return Loaded(mail, graph), ok(
        "settings", f"the {names} settings parse (PRISM_ENV={mail.prism_env})"
    )


def _secret_key(s: Loaded) -> Result:
    from prism_platform.settings import DEV_SECRET_KEY

    secret = s.mail.secret_key.get_secret_value()
    if secret == DEV_SECRET_KEY:
        return ok("SECRET_KEY", "the development key: fine outside production only")
    if len(secret) < MIN_SECRET_KEY:
        return fail("SECRET_KEY", f"shorter than {MIN_SECRET_KEY} characters ({len(secret)})")
    return ok("SECRET_KEY", f"set, {len(secret)} characters")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(name: str, value: str | None, default: str, production: bool) -> Result:
    if value is None:
        if production:
            return fail(name, f"not set: mailed links would start with {default}")
        return ok(name, f"not set: links start with {default}")
    parts = urlsplit(value)
    if not parts.hostname:
        return fail(name, f"{value} has no host")
    if production and _is_loopback(parts.hostname):
        return fail(
            name, f"{value} points at this machine: set it to the address users reach Prism at"
        )
    if production and parts.scheme != "https":
        return fail(name, f"{value} is not https: its links carry sign-in and invitation tokens")
    return ok(name, value)


def _links(s: Loaded) -> Iterator[Result]:
    settings, production = s.mail, s.mail.is_production
    links = settings.links
    yield _base_url("PUBLIC_URL", settings.public_url, links.public_url, production)
    if settings.portal_url is None:
        yield ok("PORTAL_URL", "not set: links to portal screens start with PUBLIC_URL")
    else:
        yield _base_url("PORTAL_URL", settings.portal_url, links.public_url, production)
    probe = s.graph.autotask_zone_probe_url if s.graph is not None else None
    if probe is not None:  # unset: the real Autotask's zone lookup
        parts = urlsplit(probe)
        wanted = ("https",) if production else ("http", "https")
        if parts.scheme not in wanted or not parts.hostname:
            yield fail("AUTOTASK_ZONE_PROBE_URL", f"{probe!r} is not an {' or '.join(wanted)} URL")
        else:
            yield ok("AUTOTASK_ZONE_PROBE_URL", probe)


def _production(s: Loaded) -> Iterator[Result]:
    settings = s.mail
    if not settings.is_production:
        yield ok("PRISM_ENV", f"{settings.prism_env}: the rules of production do not apply")
        return
    domain = settings.mail_from.rsplit("@", 1)[-1].strip(" >").lower()
    if "@" not in settings.mail_from or domain.endswith("localhost"):
        yield fail("MAIL_FROM", f"{settings.mail_from!r}: not an address others can reply to")
    else:
        yield ok("MAIL_FROM", settings.mail_from)
    if s.graph is None:  # --mailer: the rest concerns the other processes
        return
    if s.graph.graphiql_enabled:
        yield fail("GRAPHIQL", "on in production: remove GRAPHIQL=true")
    else:
        yield ok("GRAPHIQL", "off in production")
    if settings.redis_url is None:
        yield fail("REDIS_URL", "not set: production runs the relay and workers on Redis")
    else:
        yield ok("REDIS_URL", "set: the relay and the workers run as their own processes")
    if settings.database_url.startswith("sqlite"):
        yield fail("DATABASE_URL", "SQLite: production runs on PostgreSQL")
    else:
        yield ok("DATABASE_URL", "PostgreSQL")


def _shown(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(getattr(exc, 'orig', None) or exc).__name__}: {line}".rstrip(": ")


def _database(s: Loaded) -> Iterator[Result]:
    from sqlalchemy import text

    from prism_platform.db import make_sync_engine
    from prism_platform.migrate import current_revisions, migration_problem

    url = s.mail.database_url
    path = s.mail.sqlite_path()
    if path is not None and not path.exists():  # connecting would create an empty one
        yield fail("database", f"{_shown(url)}: the file {path} does not exist")
        yield Result("migrations", "skip", "not checked: no database")
        return
    postgres = url.startswith("postgresql")
    engine = make_sync_engine(url, **({"connect_args": {"connect_timeout": 5}} if postgres else {}))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = current_revisions(conn)
    except Exception as exc:
        yield fail("database", f"{_shown(url)} unreachable: {_first_line(exc)}")
        yield Result("migrations", "skip", "not checked: the database is unreachable")
        return
    finally:
        engine.dispose()
    yield ok("database", f"{_shown(url)} answers")
    problem = migration_problem(current)
    if problem is None:
        yield ok("migrations", f"at head ({', '.join(sorted(current))})")
    else:
        yield fail("migrations", problem)


def _broker(s: Loaded) -> Result:
    import redis

    url = s.mail.redis_url
    if url is None:
        return ok("broker", "in-process (no REDIS_URL): the parts run together in `prism dev`")
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
    try:
        client.ping()
    except Exception as exc:
        return fail("broker", f"{_shown(url)} unreachable: {_first_line(exc)}")
    finally:
        client.close()
    return ok("broker", f"{_shown(url)} answers PING")


def _smtp(s: Loaded) -> Result:
    from prism_graph.mail.smtp import ProbeFailed, probe

    try:
        steps = probe(s.mail, timeout=min(TIMEOUT_S, s.mail.mail_smtp_timeout))
    except ProbeFailed as exc:
        return fail("SMTP", str(exc))
    return ok("SMTP", ", ".join(steps))


def run_checks(mailer_only: bool = False) -> list[Result]:
    loaded, parsed = _load(mailer_only)
    results = [parsed]
    if loaded is None:
        later = (
            ["database", "migrations", "SMTP"]
            if mailer_only
            else ["SECRET_KEY", "PUBLIC_URL", "database", "migrations", "broker", "SMTP"]
        )
        return results + [
            Result(n, "skip", "not checked: the settings do not parse") for n in later
        ]
    steps: list[Callable[[], Iterator[Result] | Result]] = []
    if not mailer_only:
        steps += [lambda: _secret_key(loaded), lambda: _links(loaded)]
    steps += [lambda: _production(loaded), lambda: _database(loaded)]
    if not mailer_only:
        steps.append(lambda: _broker(loaded))
    steps.append(lambda: _smtp(loaded))
    for step in steps:
        outcome = step()
        results.extend([outcome] if isinstance(outcome, Result) else outcome)
    return results


def report(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        detail = r.detail.replace("\n", "\n" + " " * (width + 8))
        lines.append(f"{r.status:<4}  {r.name:<{width}}  {detail}")
    failed = sum(r.status == "FAIL" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    if failed:
        lines.append(
            f"{failed} of {len(results)} checks failed"
            + (f", {skipped} not checked" if skipped else "")
        )
    else:
        lines.append(f"all {len(results)} checks passed")
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace) -> int:
    results = run_checks(mailer_only=args.mailer)
    sys.stdout.write(report(results))
    return 1 if any(r.failed for r in results) else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check",
        help="validate this deployment's configuration end to end",
        description="Check the settings every process reads and what they point at: the "
        "database and its migrations, the broker, the SMTP server (no mail is sent), "
        "PUBLIC_URL and the rules of production. One line per check, ok or FAIL with a reason.",
        epilog=EXIT_CODES,
    )
    check.add_argument(
        "--mailer",
        action="store_true",
        help="only what the mail sender needs (its settings, the database, the SMTP server): "
        "its health check",
    )
    check.set_defaults(fn=_run)
