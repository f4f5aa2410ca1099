"""The simulator as an ASGI app: ``/ATServicesRest/...`` as Autotask serves it, plus the
test-only back door under ``/_sim/``."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Route

from .backdoor import backdoor_routes
from .config import SimConfig
from .simulator import Simulator


def create_app(
    config: SimConfig | None = None,
    state_path: str | Path | None = None,
    *,
    simulator: Simulator | None = None,
) -> Starlette:
    """The simulator as a Starlette app; ``app.state.sim`` is its :class:`Simulator`."""
    sim = simulator or Simulator(config, state_path)
    routes = []
    if sim.config.enable_backdoor:
        routes.extend(backdoor_routes(sim))
    routes.append(
        Route(
            "/{rest:path}",
            sim.handle,
            methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        )
    )
    app = Starlette(routes=routes)
    app.state.sim = sim
    return app
