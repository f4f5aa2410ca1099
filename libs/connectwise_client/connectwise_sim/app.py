"""The simulator as an ASGI app: ``/login/companyinfo/...`` and ``/{codebase}/apis/3.0/...``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from .config import SimConfig
from .simulator import Simulator


def create_app(config: SimConfig | None = None, *, simulator: Simulator | None = None) -> Starlette:
    """The simulator as a Starlette app; ``app.state.sim`` is its :class:`Simulator`."""
    sim = simulator or Simulator(config)
    app = Starlette(
        routes=[
            Route("/{rest:path}", sim.handle, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
        ]
    )
    app.state.sim = sim
    return app
