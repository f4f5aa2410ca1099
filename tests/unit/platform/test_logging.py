"""The log format every process writes (N4): JSON lines off a terminal, one readable line on
it, each with a UTC timestamp, level, logger, message and the context ids that are bound."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from prism_platform.logging import (
    QUIET_LOGGERS,
    configure_logging,
    log_context,
    make_handler,
    redact,
)
from prism_platform.settings import CommonSettings

pytestmark = pytest.mark.unit

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own, so that the test leaves the root logger alone."""
    log = logging.getLogger(f"prism.test.{uuid.uuid4().hex[:8]}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    log.handlers.clear()


@pytest.fixture
def root_restored() -> Iterator[None]:
    """configure_logging changes the root logger and a few others: put them back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = [*QUIET_LOGGERS, "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    propagate = {n: logging.getLogger(n).propagate for n in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (lvl, hs) in saved.items():
        logging.getLogger(name).setLevel(lvl)
        logging.getLogger(name).handlers[:] = hs
        logging.getLogger(name).propagate = propagate[name]


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_off_a_terminal_each_record_is_one_json_object(logger: logging.Logger) -> None:
    stream = io.StringIO()  # a pipe or a file: not a terminal
    logger.addHandler(make_handler("auto", stream))

    logger.info("invoice %s issued", 42)

    (line,) = lines(stream)
    assert ISO_UTC.fullmatch(line["timestamp"]), line["timestamp"]
    assert line["level"] == "INFO"
    assert line["logger"] == logger.name
    assert line["message"] == "invoice 42 issued"
    assert not {"request_id", "event_id", "event_type", "run_id"} & set(line)


def test_bound_ids_are_on_every_record_inside_the_block_only(logger: logging.Logger) -> None:
    stream = io.StringIO()
    logger.addHandler(make_handler("json", stream))

    with log_context(request_id="req-12345678", event_id="ev-1", event_type="customer.created"):
        with log_context(run_id="invoice:7"):
            logger.info("inner")
        logger.warning("outer")
    logger.info("after")

    inner, outer, after = lines(stream)
    assert (inner["request_id"], inner["event_id"], inner["run_id"]) == (
        "req-12345678",
        "ev-1",
        "invoice:7",
    )
    assert outer["event_type"] == "customer.created" and "run_id" not in outer
    assert outer["level"] == "WARNING"
    assert "request_id" not in after


def test_a_traceback_and_extra_fields_are_fields_of_the_same_object(
    logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    logger.addHandler(make_handler("json", stream))

    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("handler failed", extra={"attempt": 3})

    (line,) = lines(stream)
    assert line["message"] == "handler failed"
    assert line["attempt"] == 3
    assert "ValueError: boom" in line["exc_info"]


def test_on_a_terminal_a_record_is_one_readable_line_with_its_ids(
    logger: logging.Logger,
) -> None:
    stream = Terminal()
    logger.addHandler(make_handler("auto", stream))

    with log_context(request_id="req-12345678"):
        logger.info("signed in")

    (line,) = stream.getvalue().splitlines()
    stamp, level, name, rest = line.split(maxsplit=3)
    assert ISO_UTC.fullmatch(stamp)
    assert (level, name) == ("INFO", f"{logger.name}:")
    assert rest == "signed in [request_id=req-12345678]"


def test_log_format_forces_json_or_text(logger: logging.Logger) -> None:
    assert CommonSettings(log_format="json").log_format == "json"
    terminal = Terminal()
    logger.addHandler(make_handler("json", terminal))
    logger.info("x")
    assert json.loads(terminal.getvalue())["message"] == "x"


def test_uvicorn_access_lines_come_out_in_the_same_format(root_restored: None) -> None:
    import uvicorn

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    # What `prism graph` and `prism dev` give uvicorn: no log config of its own.
    uvicorn.Config(app=lambda *_: None, log_config=None, log_level="info")

    with log_context(request_id="req-12345678"):
        # uvicorn's own call (uvicorn/protocols/http/h11_impl.py)
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "POST", "/graphql", "1.1", 200
        )

    (line,) = lines(stream)
    assert line["logger"] == "uvicorn.access"
    assert line["message"] == '127.0.0.1:5555 - "POST /graphql HTTP/1.1" 200'
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert line["request_id"] == "req-12345678"
    assert ISO_UTC.fullmatch(line["timestamp"])


def test_uvicorn_s_default_config_would_bypass_it(root_restored: None) -> None:
    """Why `log_config=None`: uvicorn's default installs handlers of its own."""
    import uvicorn

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    uvicorn.Config(app=lambda *_: None, log_level="info")  # its default LOGGING_CONFIG
    logging.getLogger("uvicorn.access").info("plain")
    assert stream.getvalue() == ""


def test_configuring_again_replaces_the_handler(root_restored: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", "json", stream=first)
    configure_logging("INFO", "json", stream=second)

    logging.getLogger("prism.test").warning("once")

    assert first.getvalue() == ""
    assert [line["message"] for line in lines(second)] == ["once"]


def test_http_client_libraries_stay_at_warning_even_at_debug(root_restored: None) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)

    logging.getLogger("httpx").info(
        'HTTP Request: GET https://zone.test/ATServicesRest/V1.0/zoneInformation?user=someone "200"'
    )
    logging.getLogger("httpcore.http11").debug("send_request_headers.started")
    logging.getLogger("prism.test").debug("kept")

    assert [line["logger"] for line in lines(stream)] == ["prism.test"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer prism_at_abc123", "prism_at_abc123"),
        ('GET /accept-invitation?token=tok-XYZ&x=1 HTTP/1.1" 200', "tok-XYZ"),
        ("headers {'Secret': 'sim-secret', 'ApiIntegrationCode': 'CODE1'}", "sim-secret"),
        ("headers {'Secret': 'sim-secret', 'ApiIntegrationCode': 'CODE1'}", "CODE1"),
        ('{"password": "hunter2"}', "hunter2"),
        ("client_secret=cs-999", "cs-999"),
    ],
)
def test_credentials_in_a_message_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_the_access_line_of_a_link_with_a_token_is_masked(root_restored: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "GET", "/rfi?token=one-time-xyz", "1.1", 200
    )
    (line,) = lines(stream)
    assert "one-time-xyz" not in json.dumps(line)
    assert line["path"] == "/rfi?token=[redacted]"


def test_prism_graph_leaves_uvicorn_s_records_to_prism_s_handler(
    root_restored: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import uvicorn

    from prism_cli.main import main

    given: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: given.update(kwargs))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prism.sqlite3")
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.delenv("REDIS_URL", raising=False)

    assert main(["graph"]) == 0

    assert "log_config" in given and given["log_config"] is None


def test_a_simulator_in_the_process_leaves_its_logging_alone(
    root_restored: None, tmp_path: Any
) -> None:
    """`prism dev` serves the Autotask simulator in a thread beside the API: the API's access
    lines keep Prism's format, and the simulator's own (the zone lookup's user name) stay out."""
    import httpx

    from autotask_sim import DEFAULT_USERNAME, SimConfig
    from autotask_sim.server import serve_in_thread

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    sim = serve_in_thread("127.0.0.1", 0, tmp_path / "sim.sqlite3", config=SimConfig())
    try:
        answer = httpx.get(
            f"{sim.url}/ATServicesRest/V1.0/zoneInformation", params={"user": DEFAULT_USERNAME}
        )
        assert answer.status_code == 200
    finally:
        sim.stop()
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "POST", "/graphql", "1.1", 200
    )

    assert [line["path"] for line in lines(stream)] == ["/graphql"]
    assert DEFAULT_USERNAME not in stream.getvalue()


def test_prism_worker_lets_prism_format_dramatiq_s_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Dramatiq's worker processes log through a pipe to `prism worker`: they get its stderr's
    format (text on a terminal here) and no basicConfig of Dramatiq's beside Prism's."""
    import os
    import sys

    from prism_cli.main import main

    argv: list[str] = []
    monkeypatch.setattr(os, "execv", lambda _, args: argv.extend(args))
    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prism.sqlite3")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.delenv("LOG_FORMAT", raising=False)

    assert main(["worker"]) == 0

    assert "--skip-logging" in argv and "prism_syncer.entry" in argv
    assert os.environ["LOG_FORMAT"] == "text"
