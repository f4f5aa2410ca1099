"""`prism check`: every check passes on a working deployment and each fault fails its own
line with a clear reason (real database, broker and loopback SMTP servers)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from prism_cli.main import main
from tests.support.backends import redis_requested, scratch_database

pytestmark = pytest.mark.integration

# Every variable the checks read; each test starts from none of them (and no .env file).
VARIABLES = (
    "PRISM_ENV",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PUBLIC_URL",
    "PORTAL_URL",
    "GRAPHIQL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "MAIL_FROM",
    "MAIL_SMTP_TIMEOUT",
    "AUTOTASK_ZONE_PROBE_URL",
)
GOOD_SECRET = "s" * 48
UNREACHABLE_DB = "postgresql://prism@127.0.0.1:1/prism"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Accepting:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@pytest.fixture
def smtp_factory() -> Iterator[Callable[..., int]]:
    """Start a loopback SMTP server (aiosmtpd options, e.g. AUTH); its port. Stopped after."""
    controllers: list[Controller] = []

    def start(**options: Any) -> int:
        port = free_port()
        controller = Controller(_Accepting(), hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    smtp_factory: Callable[..., int],
) -> pytest.MonkeyPatch:
    """A working development deployment: the suite's database and broker, an SMTP server."""
    monkeypatch.chdir(tmp_path)  # no .env file of the repository's
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRISM_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", database_url)
    if redis_requested():
        monkeypatch.setenv("REDIS_URL", str(redis_requested()))
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_factory()))
    return monkeypatch


def production(env: pytest.MonkeyPatch) -> None:
    env.setenv("PRISM_ENV", "production")
    env.setenv("SECRET_KEY", GOOD_SECRET)
    env.setenv("PUBLIC_URL", "https://prism.example.com")
    env.setenv("MAIL_FROM", "Prism <no-reply@example.com>")


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """Exit code, each check's line (by name) and the whole output."""
    capsys.readouterr()
    code = main(["check", *args])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines()[:-1]:
        if line.startswith(" "):  # the rest of a detail of several lines
            continue
        status, name, detail = [*line.split(maxsplit=2), ""][:3]
        lines[name] = f"{status} {detail}".strip()
    return code, lines, out


def test_a_working_deployment_passes_every_check(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, out = check(capsys)

    assert code == 0, out
    assert all(line.startswith("ok") for line in lines.values()), out
    assert set(lines) >= {"settings", "SECRET_KEY", "PUBLIC_URL", "database", "migrations"}
    assert lines["migrations"].startswith("ok at head (")
    assert lines["SMTP"].startswith("ok connected to 127.0.0.1:")
    assert lines["SMTP"].endswith("EHLO, NOOP")
    assert out.endswith(f"all {len(lines)} checks passed\n")


def test_production_rules_pass_when_followed(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    production(env)

    _, lines, out = check(capsys)

    assert lines["PUBLIC_URL"] == "ok https://prism.example.com", out
    assert lines["SECRET_KEY"] == "ok set, 48 characters"
    assert lines["MAIL_FROM"] == "ok Prism <no-reply@example.com>"
    assert lines["GRAPHIQL"] == "ok off in production"


@pytest.mark.parametrize(
    ("variables", "name", "reason"),
    [
        ({"PUBLIC_URL": ""}, "PUBLIC_URL", "not set: mailed links would start with http://"),
        (
            {"PUBLIC_URL": "https://localhost:8000"},
            "PUBLIC_URL",
            "https://localhost:8000 points at this machine",
        ),
        (
            {"PUBLIC_URL": "http://prism.example.com"},
            "PUBLIC_URL",
            "http://prism.example.com is not https",
        ),
        (
            {"PORTAL_URL": "http://127.0.0.1:3000"},
            "PORTAL_URL",
            "http://127.0.0.1:3000 points at this machine",
        ),
        ({"GRAPHIQL": "true"}, "GRAPHIQL", "on in production: remove GRAPHIQL=true"),
        (
            {"MAIL_FROM": "Prism <no-reply@prism.localhost>"},
            "MAIL_FROM",
            "not an address others can reply to",
        ),
        ({"REDIS_URL": ""}, "REDIS_URL", "not set: production runs the relay and workers on Redis"),
        (
            {"AUTOTASK_ZONE_PROBE_URL": "http://127.0.0.1:8081/"},
            "AUTOTASK_ZONE_PROBE_URL",
            "'http://127.0.0.1:8081/' is not an https URL",
        ),
    ],
)
def test_a_production_rule_broken_fails_its_check(
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    name: str,
    reason: str,
) -> None:
    production(env)
    for variable, value in variables.items():
        env.setenv(variable, value)

    code, lines, out = check(capsys)

    assert code == 1
    assert lines[name].startswith("FAIL "), out
    assert reason in lines[name]


def test_production_on_sqlite_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    production(env)
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prism.sqlite3'}")

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["DATABASE_URL"] == "FAIL SQLite: production runs on PostgreSQL"
    assert lines["database"].endswith("prism.sqlite3 does not exist")  # and not created
    assert not (tmp_path / "prism.sqlite3").exists()


def test_settings_that_do_not_parse_fail_naming_the_variable(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("SMTP_PORT", "twenty-five")

    code, lines, out = check(capsys)

    assert code == 1
    assert lines["settings"].startswith("FAIL the API and relay's settings do not parse")
    assert "SMTP_PORT: Input should be a valid integer" in out
    assert lines["database"] == "skip not checked: the settings do not parse"
    assert "1 of 7 checks failed, 6 not checked" in out


def test_a_short_secret_key_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("SECRET_KEY", "too-short")

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["SECRET_KEY"] == "FAIL shorter than 32 characters (9)"


def test_an_unreachable_database_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("DATABASE_URL", UNREACHABLE_DB)

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["database"].startswith(
        "FAIL postgresql://prism@127.0.0.1:1/prism unreachable: OperationalError"
    )
    assert lines["migrations"] == "skip not checked: the database is unreachable"


def test_a_database_never_migrated_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with scratch_database(tmp_path / "empty") as empty:
        if empty.startswith("sqlite"):
            Path(empty.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            Path(empty.removeprefix("sqlite:///")).touch()
        env.setenv("DATABASE_URL", empty)

        code, lines, _ = check(capsys)

    assert code == 1
    assert lines["database"].startswith("ok ")
    assert lines["migrations"] == "FAIL not migrated (no migration has run): run `prism migrate`"


def test_an_unreachable_broker_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("REDIS_URL", UNREACHABLE_REDIS)

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["broker"].startswith("FAIL redis://127.0.0.1:1/0 unreachable: ConnectionError")


def test_an_unreachable_smtp_server_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    env.setenv("SMTP_PORT", str(port))

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["SMTP"].startswith(f"FAIL connect to 127.0.0.1:{port}: ConnectionRefusedError")


def test_starttls_the_server_does_not_offer_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("SMTP_STARTTLS", "true")

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["SMTP"] == "FAIL STARTTLS: SMTP_STARTTLS is on but the server does not offer it"


def test_a_login_the_server_cannot_take_fails(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("SMTP_USERNAME", "prism")
    env.setenv("SMTP_PASSWORD", "secret")

    code, lines, _ = check(capsys)

    assert code == 1
    assert lines["SMTP"] == (
        "FAIL login as prism: SMTP_USERNAME is set but the server offers no AUTH "
        "(without STARTTLS many servers do not)"
    )


def _authenticator(password: bytes) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        good = isinstance(data, LoginPassword) and data.password == password
        return AuthResult(success=good, handled=False)

    return authenticate


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("password", ["right-password", "wrong-password"])
def test_the_smtp_login_is_tried(
    env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    smtp_factory: Callable[..., int],
    password: str,
) -> None:
    # Loopback only, so AUTH without TLS here; production sets SMTP_STARTTLS.
    port = smtp_factory(
        authenticator=_authenticator(b"right-password"), auth_require_tls=False, auth_required=True
    )
    env.setenv("SMTP_PORT", str(port))
    env.setenv("SMTP_USERNAME", "prism")
    env.setenv("SMTP_PASSWORD", password)

    code, lines, out = check(capsys)

    assert password not in out  # never printed
    if password == "right-password":
        assert code == 0, out
        assert lines["SMTP"].endswith("EHLO, login as prism, NOOP")
    else:
        assert code == 1
        assert lines["SMTP"].startswith("FAIL login as prism: 535")


def test_the_mailer_check_covers_what_the_mail_sender_needs(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("REDIS_URL", UNREACHABLE_REDIS)  # the mailer does not use the broker

    code, lines, out = check(capsys, "--mailer")

    assert code == 0, out
    assert list(lines) == ["settings", "PRISM_ENV", "database", "migrations", "SMTP"]
