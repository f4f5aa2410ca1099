"""Running the simulator in a background thread (tests, the dev supervisor)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prism_http.server import ThreadedServer, free_port, serve_app_in_thread

from .app import create_app
from .config import SimConfig
from .simulator import Simulator

THREAD_NAME = "autotask-sim"

__all__ = ["THREAD_NAME", "SimHandle", "free_port", "serve_in_thread"]


@dataclass
class SimHandle:
    url: str
    sim: Simulator
    _server: ThreadedServer

    @property
    def port(self) -> int:
        return self._server.port

    def stop(self) -> None:
        self.sim.faults.release()  # let held requests finish so shutdown does not wait
        self._server.stop()
        self.sim.close()

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    state_path: str | Path | None = None,
    *,
    config: SimConfig | None = None,
) -> SimHandle:
    """Start the simulator on ``host:port`` (0 = a free port) and return once it listens."""
    config = config or SimConfig.from_env()
    sim = Simulator(config, state_path)
    server = serve_app_in_thread(
        create_app(simulator=sim),
        host=host,
        port=port,
        thread_name=THREAD_NAME,
        what="autotask simulator",
    )
    return SimHandle(server.url, sim, server)
