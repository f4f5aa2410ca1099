"""Composition root of the GraphQL service: the Starlette app with /graphql, /oauth/token,
health endpoints, Prometheus metrics (/metrics), and the pages behind the links Prism mails
(`pages`)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import anyio
import dramatiq
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from prism_domain.access import Principal
from prism_graph.common.errors import ServiceUnavailable
from prism_graph.contacts.config import ContactsConfig, build_contacts_config
from prism_graph.context import Context
from prism_graph.database import Database
from prism_graph.graphiql import assets_mount, graphiql_page
from prism_graph.identity.authn import AuthError, act_for, bearer_token, principal_for_token
from prism_graph.identity.mailing import invitation_mailer
from prism_graph.identity.oauth import token_endpoint
from prism_graph.identity.secrets import Passwords
from prism_graph.identity.service import IdentityConfig
from prism_graph.identity.throttle import LoginThrottle, make_backend
from prism_graph.mail.outbox import MailSignal
from prism_graph.pages.routes import Pages
from prism_graph.request_ids import RequestIds
from prism_graph.schema import SchemaLimits, build_schema
from prism_graph.settings import GraphSettings
from prism_graph.sync.config import build_psa_config
from prism_graph.sync.live import ProgressHub
from prism_graph.webhooks.config import WebhookApiConfig
from prism_platform.broker import broker_kind, ping
from prism_platform.db import make_async_engine
from prism_platform.metrics import exposition
from prism_platform.migrate import current_revisions, head_revisions, migration_problem
from prism_psa.connections import PsaConfig

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 3.0
ACTING_FOR_HEADER = "prism-acting-for"


def build_identity(
    settings: GraphSettings, mail_signal: MailSignal | None = None
) -> IdentityConfig:
    return IdentityConfig(
        passwords=Passwords(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        ),
        throttle=LoginThrottle(
            make_backend(settings.redis_url),
            per_account=settings.login_attempts_per_account,
            per_address=settings.login_attempts_per_address,
            namespace=settings.rate_limit_namespace,
        ),
        access_token_ttl=timedelta(minutes=settings.access_token_ttl_minutes),
        invitation_ttl=timedelta(hours=settings.invitation_ttl_hours),
        invitation_url=settings.links.invitation,
        send_invitation=invitation_mailer(mail_signal),
    )


class _GraphQLApp(GraphQL[Context, None]):
    def __init__(
        self,
        database: Database,
        identity: IdentityConfig,
        contacts: ContactsConfig | None = None,
        psa: PsaConfig | None = None,
        webhooks: WebhookApiConfig | None = None,
        demo_example: bool = False,
        progress: ProgressHub | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._demo_example = demo_example
        self._database = database
        self._identity = identity
        self._contacts = contacts or ContactsConfig()
        self._psa = psa
        self._webhooks = webhooks
        self._progress = progress

    async def render_graphql_ide(self, request: Any) -> Any:
        """GraphiQL from the vendored assets, never a CDN (`prism_graph.graphiql`)."""
        return graphiql_page(demo=self._demo_example)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.setdefault("state", {})
        client = request.scope.get("client")
        context = Context.for_request(
            self._database,
            self._identity,
            state.get("prism_principal"),
            client_address=client[0] if client else None,
            request=request,
            response=response,
            contacts=self._contacts,
            psa=self._psa,
            webhooks=self._webhooks,
            progress=self._progress,
        )
        state["prism_context"] = context
        return context

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        """Queries and mutations over HTTP POST; a subscription is refused with the API's
        error format (it is served over the WebSocket only, where it can stream)."""
        if request_adapter.method != "POST":
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types={OperationType.QUERY, OperationType.MUTATION},
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is not OperationType.SUBSCRIPTION:
                raise
            sub_response.status_code = 400
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Subscriptions are served over a WebSocket at /graphql "
                        "(graphql-transport-ws), not over HTTP.",
                        extensions={"code": "BAD_REQUEST"},
                    )
                ],
            )
        except (CannotGetOperationTypeError, MissingQueryError):
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )

    async def on_ws_connect(self, context: Context) -> Any:
        """A WebSocket (graphql-transport-ws) authenticates like a request, in its
        connection_init: the payload's `authorization` ("Bearer <token>") and optional
        `prism-acting-for`, or else the upgrade request's own headers. Without a valid token
        the connection is refused (closed with 4403), and nothing is served on it."""
        params = {str(k).lower(): v for k, v in (context.connection_params or {}).items()}
        headers = context.request.headers if context.request is not None else {}
        authorization = params.get("authorization", headers.get("authorization"))
        acting_for = params.get(ACTING_FOR_HEADER, headers.get(ACTING_FOR_HEADER))
        if not isinstance(authorization, str | None) or not isinstance(acting_for, str | None):
            raise ConnectionRejectionError()
        try:
            principal = await authenticate(self._database, authorization, acting_for)
        except AuthError as exc:
            raise ConnectionRejectionError() from exc
        if principal is None:
            raise ConnectionRejectionError()
        context.sign_in(principal)
        return UNSET  # a plain connection_ack


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return JSONResponse(body, status_code=status, headers=headers)


class _GraphQLEndpoint:
    """In front of strawberry: body size limit, authentication, acting-for, and closing the
    request's read session once the response is sent."""

    def __init__(self, app: _GraphQLApp, database: Database, max_bytes: int) -> None:
        self._app = app
        self._database = database
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # Subscriptions: authenticated in the connection_init (`_GraphQLApp.on_ws_connect`).
            try:
                await self._app(scope, receive, send)
            finally:
                await _close_reader(scope)
            return
        request = Request(scope)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self._max_bytes):
            await _json(
                413,
                _error_body(
                    f"The request is larger than {self._max_bytes} bytes.", "REQUEST_TOO_LARGE"
                ),
            )(scope, receive, send)
            return
        try:
            principal = await self._authenticate(request)
        except (OperationalError, InterfaceError) as exc:
            unavailable = ServiceUnavailable.from_db_error(exc)
            await _json(503, _error_body(str(unavailable), unavailable.code))(scope, receive, send)
            return
        except AuthError as exc:
            headers = {"WWW-Authenticate": exc.www_authenticate()} if exc.status == 401 else {}
            code = (
                "UNAUTHENTICATED"
                if exc.status == 401
                else ("FORBIDDEN" if exc.status == 403 else "BAD_REQUEST")
            )
            await _json(exc.status, _error_body(exc.description, code), headers)(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})["prism_principal"] = principal
        try:
            await self._app(scope, _limited(receive, self._max_bytes), send)
        finally:
            await _close_reader(scope)

    async def _authenticate(self, request: Request) -> Principal | None:
        return await authenticate(
            self._database,
            request.headers.get("authorization"),
            request.headers.get(ACTING_FOR_HEADER),
        )


async def _close_reader(scope: Scope) -> None:
    context = scope.get("state", {}).pop("prism_context", None)
    if context is not None:
        # Shielded: a connection cancelled half-way through its rollback never comes back
        # to the pool in a usable state (a WebSocket's task may be cancelled as it closes).
        with anyio.CancelScope(shield=True):
            await context.reader.close()


async def authenticate(
    database: Database, authorization: str | None, acting_for: str | None
) -> Principal | None:
    """Who calls, from an Authorization value and a Prism-Acting-For value (None: anonymous);
    raises AuthError for a token that is not valid."""
    token = bearer_token(authorization)
    if token is None:
        if acting_for:
            raise AuthError("invalid_request", "Prism-Acting-For needs a signed-in user.", 400)
        return None
    reader = database.reader()
    try:
        principal = await principal_for_token(reader.session, token)
        if acting_for:
            principal = await act_for(reader.session, principal, acting_for)
        return principal
    finally:
        await reader.close()


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def _limited(receive: Receive, max_bytes: int) -> Receive:
    """Refuse bodies that grow past the limit even without a Content-Length."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise _TooLarge()
        return message

    return wrapped


class _TooLarge(Exception):
    pass


def create_app(
    settings: GraphSettings,
    *,
    database: Database | None = None,
    broker: dramatiq.Broker | None = None,
    identity: IdentityConfig | None = None,
) -> Starlette:
    database = database or Database(make_async_engine(settings.database_url))
    identity = identity or build_identity(settings)
    schema = build_schema(
        SchemaLimits(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            introspection=not settings.is_production,
        )
    )
    contacts = build_contacts_config(settings)
    head_revisions()  # read the migration scripts now, not in the first /readyz
    progress = ProgressHub(database.engine, settings.progress_poll_interval)
    graphql = _GraphQLApp(
        database,
        identity,
        contacts,
        build_psa_config(settings),
        WebhookApiConfig(
            settings.secret_key.get_secret_value(),
            allow_http_loopback=settings.webhooks_allow_http_loopback,
        ),
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        demo_example=not settings.is_production,
        allow_queries_via_get=False,
        progress=progress,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=settings.subscriptions_per_connection,
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            with anyio.fail_after(READY_TIMEOUT_S):
                async with database.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                    current = await conn.run_sync(current_revisions)
            checks["database"] = "ok"
            # Serving on a schema the code does not expect fails on the first query anyway.
            problem = migration_problem(current)
            checks["migrations"] = f"ok (at {', '.join(sorted(current))})"
            if problem is not None:
                checks["migrations"] = problem
        except Exception as exc:
            checks["database"] = f"unreachable ({type(exc).__name__})"
            checks["migrations"] = "unknown (the database is unreachable)"
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

    async def metrics(_: Request) -> Response:
        # Scrape-time readers may query the database with a sync engine: not on the loop.
        body = await anyio.to_thread.run_sync(exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await progress.close()
        await database.engine.dispose()

    endpoint = _GraphQLEndpoint(graphql, database, settings.max_request_bytes)
    pages = Pages(database, identity, contacts, settings.links, graphiql=settings.graphiql_enabled)
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", endpoint),
            Route("/oauth/token", token_endpoint(database, identity), methods=["POST"]),
            *pages.routes(),
            *([assets_mount()] if settings.graphiql_enabled else []),
        ],
        lifespan=lifespan,
        middleware=[Middleware(RequestIds)],
    )
    app.state.progress = progress  # the process's live progress poller
    return app


__all__ = ["build_identity", "create_app", "json"]
