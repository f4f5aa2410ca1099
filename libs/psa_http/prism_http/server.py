"""Running an ASGI simulator in a background thread (tests, the dev supervisor)."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_SECONDS = 10.0


class _QuietThread(logging.Filter):
    """Drops uvicorn's routine records of one simulator thread.

    uvicorn's loggers belong to the whole process, which may serve an API of its own beside
    the simulator (`prism dev`) and have configured them: the simulator leaves them alone
    (no log config, level or access-log switch of its own) and only keeps its own access
    lines, which could show user names, and start-up notes out."""

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != self.thread_name or record.levelno >= logging.WARNING


def _quiet_uvicorn_in_thread(thread_name: str) -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        target = logging.getLogger(name)
        if not any(
            isinstance(f, _QuietThread) and f.thread_name == thread_name for f in target.filters
        ):
            target.addFilter(_QuietThread(thread_name))


class _Server(uvicorn.Server):
    """Signals readiness through an Event instead of being polled."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    def install_signal_handlers(self) -> None:
        # Signal handlers belong to the main thread; this server lives in another one.
        pass

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()


@dataclass
class ThreadedServer:
    url: str
    _server: _Server
    _thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve_app_in_thread(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, thread_name: str, what: str
) -> ThreadedServer:
    """Serve ``app`` on ``host:port`` (0 = a free port) and return once it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = int(sock.getsockname()[1])
    ready = threading.Event()
    _quiet_uvicorn_in_thread(thread_name)
    server = _Server(uvicorn.Config(app, log_config=None, log_level=None, lifespan="off"), ready)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=thread_name, daemon=True
    )
    thread.start()
    if not ready.wait(STARTUP_TIMEOUT_SECONDS):
        server.should_exit = True
        raise RuntimeError(f"{what} did not start")
    return ThreadedServer(f"http://{host}:{bound_port}", server, thread)
