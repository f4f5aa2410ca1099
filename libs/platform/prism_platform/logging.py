"""Logging set-up shared by every process: one line per record, JSON when stderr is not a
terminal, and the ids of what is being handled on each record.

Every record carries `timestamp` (ISO 8601, UTC, milliseconds, `Z`), `level`, `logger` and
`message`, plus whichever context ids are bound (`log_context`): `request_id` (the HTTP
request, carried through the outbox to the worker), `event_id` and `event_type` (the event a
worker handles) and `run_id` (a sync run, e.g. `invoice:12`). Secrets never reach a line:
settings hold them as `SecretStr`, the libraries that log request URLs, headers or SQL
parameters are held at WARNING (`QUIET_LOGGERS`), and `Redact` masks credentials that a
message might still carry.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["auto", "json", "text"]

#: The ids a record can carry, in the order they are shown.
CONTEXT_IDS = ("request_id", "event_id", "event_type", "run_id")

_context: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"prism_{name}", default=None) for name in CONTEXT_IDS
}

#: Never below WARNING, whatever LOG_LEVEL says: the HTTP clients log each request's URL
#: (the Autotask user name is in the zone lookup's) and, at DEBUG, headers; the database
#: drivers log, at DEBUG, every statement with its parameters (credentials, mail bodies with
#: one-time links).
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "urllib3", "aiosqlite", "psycopg")

#: uvicorn's loggers: their records go to the root handler, in the same format.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

# Record attributes that are not worth a field of their own.
_SKIPPED_EXTRAS = {"color_message", "taskName"}


@contextlib.contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Stamp `ids` (names from CONTEXT_IDS; None leaves one as it is) on every record logged
    inside the block, in this thread or task and in those it starts."""
    tokens = []
    try:
        for name, value in ids.items():
            if value is not None:
                tokens.append((_context[name], _context[name].set(str(value))))
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind(**ids: object) -> None:
    """Set context ids until `clear` (for hooks that open and close in separate calls)."""
    for name, value in ids.items():
        _context[name].set(None if value is None else str(value))


def clear() -> None:
    for var in _context.values():
        var.set(None)


def current_request_id() -> str | None:
    return _context["request_id"].get()


class ContextIds(logging.Filter):
    """Copies the bound context ids onto each record (as attributes, for the formatters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _context.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


# `Authorization: Bearer x`, `Secret: x`, `"password": "x"`, `client_secret=x` ... -> masked.
_CREDENTIAL = re.compile(
    r"(?i)\b(bearer\s+|(?:api_?integration_?code|secret|client_secret|password|access_?token|"
    r"refresh_?token|token|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)"
    r"(?!\[redacted\])([^\s\"'&,;}\]]+)"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _CREDENTIAL.sub(lambda m: m.group(1) + REDACTED, text)


class Redact(logging.Filter):
    """Masks credentials in a record's message: a last line of defence, not the first."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):  # e.g. uvicorn's access line: the path's query
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line as fields too: client, method, path, status."""
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, _, status = args
    return {"client": client, "method": method, "path": path, "status": status}


class JsonLines(JsonFormatter):
    """One JSON object per record: timestamp, level, logger, message, the context ids that
    are set, the traceback if any, then whatever `extra=` the call passed."""

    def __init__(self) -> None:
        super().__init__(reserved_attrs=[*RESERVED_ATTRS, *CONTEXT_IDS, *_SKIPPED_EXTRAS])

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["timestamp"] = _timestamp(record)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = getattr(record, "message", None) or record.getMessage()
        for name in CONTEXT_IDS:
            value = getattr(record, name, None)
            if value is not None:
                log_data[name] = value
        log_data.update(_access_fields(record))
        super().add_fields(log_data, record, message_dict)


class TextLines(logging.Formatter):
    """For a person at a terminal: `2026-12-03T10:20:38.123Z INFO  logger: message [ids]`."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{name}={value}"
            for name in CONTEXT_IDS
            if (value := getattr(record, name, None)) is not None
        )
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if ids:
            line += f" [{ids}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def resolve_format(fmt: LogFormat, stream: TextIO) -> Literal["json", "text"]:
    """`auto`: text for a person at a terminal, JSON lines for everything else."""
    if fmt != "auto":
        return fmt
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def make_handler(fmt: LogFormat = "auto", stream: TextIO | None = None) -> logging.Handler:
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines() if resolve_format(fmt, stream) == "json" else TextLines())
    handler.addFilter(ContextIds())
    handler.addFilter(Redact())
    return handler


def quiet_libraries(level: str | int = "INFO") -> None:
    """Hold the HTTP clients and database drivers at WARNING (or `level` if higher)."""
    number = level if isinstance(level, int) else logging.getLevelName(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, number))


def configure_logging(
    level: str = "INFO", fmt: LogFormat = "auto", *, stream: TextIO | None = None
) -> logging.Handler:
    """Send every record (uvicorn's and Dramatiq's too) through one handler on the root
    logger, in `fmt`; calling it again replaces that handler. Returns the handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_prism", False)]:
        root.removeHandler(old)
    handler = make_handler(fmt, stream)
    handler._prism = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries(level)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)  # LOG_LEVEL, until uvicorn.Config sets it
    return handler
