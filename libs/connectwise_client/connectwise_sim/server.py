"""Running the simulator: in a background thread (tests, the dev supervisor) or as a process."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass

import uvicorn

from .app import create_app
from .config import SimConfig
from .simulator import Simulator

STARTUP_TIMEOUT_SECONDS = 10.0
THREAD_NAME = "connectwise-sim"


class _QuietThread(logging.Filter):
    """Drops uvicorn's routine records of the simulator's thread.

    uvicorn's loggers belong to the whole process, which may serve an API of its own beside
    the simulator (`prism dev`) and have configured them: the simulator leaves them alone
    (no log config, level or access-log switch of its own) and only keeps its own access
    lines and start-up notes out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME or record.levelno >= logging.WARNING


def _quiet_uvicorn_in_this_thread() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _QuietThread) for f in target.filters):
            target.addFilter(_QuietThread())


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
class SimHandle:
    url: str
    sim: Simulator
    _server: _Server
    _thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        self.sim.close()

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    config: SimConfig | None = None,
) -> SimHandle:
    """Start the simulator on ``host:port`` (0 = a free port) and return once it listens."""
    config = config or SimConfig.from_env()
    sim = Simulator(config)
    app = create_app(simulator=sim)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = int(sock.getsockname()[1])
    ready = threading.Event()
    _quiet_uvicorn_in_this_thread()
    server = _Server(uvicorn.Config(app, log_config=None, log_level=None, lifespan="off"), ready)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=THREAD_NAME, daemon=True
    )
    thread.start()
    if not ready.wait(STARTUP_TIMEOUT_SECONDS):
        server.should_exit = True
        raise RuntimeError("connectwise simulator did not start")
    return SimHandle(f"http://{host}:{bound_port}", sim, server, thread)
