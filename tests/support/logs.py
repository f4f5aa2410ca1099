"""Capturing what the configured log handler writes, as the JSON lines an operator reads."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prism_platform.logging import QUIET_LOGGERS, make_handler, quiet_libraries


class CapturedLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[CapturedLogs]:
    """Every record of every thread at `level`, through Prism's handler in JSON, with the
    leaky libraries (HTTP clients, database drivers) held at WARNING as `configure_logging`
    holds them."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    quiet_libraries(level)
    try:
        yield CapturedLogs(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for name, lvl in quiet.items():
            logging.getLogger(name).setLevel(lvl)
