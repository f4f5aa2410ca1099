"""A request id for every HTTP request: taken from a sane `X-Request-ID` (a proxy's) or made
here, echoed in the response, stamped on every log record written while the request is
handled, and kept on the outbox rows its mutations write, so that the worker's records of
the events it caused carry it too (`prism_platform.logging`)."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prism_platform.logging import log_context

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's or client's id may look like to be kept (a UUID, a trace id, ...): anything
# else, or nothing, gets a new one, so a log line never carries what a caller made up at length.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_of(header: str | None) -> str:
    if header is not None and _SANE.fullmatch(header):
        return header
    return new_request_id()


class RequestIds:
    """Pure ASGI middleware (contextvars set here reach the app, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = request_id_of(incoming)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
