"""Composition root of the GraphQL service: the Starlette app with /graphql and health."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import dramatiq
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from prism_graph.context import Context
from prism_graph.database import Database
from prism_graph.schema import build_schema
from prism_graph.settings import GraphSettings
from prism_platform.broker import broker_kind, ping
from prism_platform.db import make_async_engine

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 3.0


class _GraphQLApp(GraphQL[Context, None]):
    def __init__(self, database: Database, **kwargs: Any) -> None:
        super().__init__(build_schema(), **kwargs)
        self._database = database

    async def get_context(self, request: Any, response: Any) -> Context:
        context = Context.for_request(self._database, request, response)
        request.scope.setdefault("state", {})["prism_context"] = context
        return context


class _ClosingContext:
    """Closes the request's read session once the GraphQL response is sent."""

    def __init__(self, app: _GraphQLApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._app(scope, receive, send)
        finally:
            context = scope.get("state", {}).pop("prism_context", None)
            if context is not None:
                await context.reader.close()


def create_app(
    settings: GraphSettings,
    *,
    database: Database | None = None,
    broker: dramatiq.Broker | None = None,
) -> Starlette:
    database = database or Database(make_async_engine(settings.database_url))
    graphql = _GraphQLApp(
        database,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allow_queries_via_get=False,
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                async with database.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable ({type(exc).__name__})"
        if broker is None:
            checks["broker"] = "not configured"
        else:
            try:
                with anyio.fail_after(READY_TIMEOUT_S):
                    await anyio.to_thread.run_sync(ping, broker, abandon_on_cancel=True)
                checks["broker"] = f"ok ({broker_kind(broker)})"
            except Exception as exc:
                checks["broker"] = f"unreachable ({type(exc).__name__})"
        ready = all(v.startswith("ok") for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await database.engine.dispose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", _ClosingContext(graphql), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
