"""Helpers for tests: talk to the simulator in-process through a plain ``httpx.Client``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx
from starlette.types import ASGIApp


class SimTransport(httpx.BaseTransport):
    """A synchronous httpx transport that runs an ASGI app in this process.

    Requests keep their URL (any host), so a client can believe it talks to
    a vendor host such as ``webservices2.autotask.net`` while a simulator answers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal_cm: AbstractContextManager[Any] = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=content
            )
            response = await self._asgi.handle_async_request(inner)
            body = b"".join([part async for part in response.stream])  # type: ignore[union-attr]
            return response.status_code, response.headers.raw, body

        status, headers, body = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)


def sim_http_client(app: ASGIApp, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose every request is answered by ``app``."""
    return httpx.Client(transport=SimTransport(app), **kwargs)
