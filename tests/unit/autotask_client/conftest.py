from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from autotask_client import AutotaskClient, Credentials, RetryPolicy

ZONE_URL = "https://webservices14.autotask.net/ATServicesRest/"
BASE = "https://webservices14.autotask.net/ATServicesRest/V1.0/"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that answers zone lookups and records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.lower().endswith("/zoneinformation"):
            return httpx.Response(
                200,
                json={
                    "zoneName": "Pre",
                    "url": ZONE_URL,
                    "webUrl": "https://ww14.autotask.net/",
                    "ci": 7,
                },
            )
        return self.handler(request)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if "zoneinformation" not in r.url.path.lower()]


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


@pytest.fixture
def creds() -> Credentials:
    return Credentials(
        username="api-user@example.test", secret="s3cr3t-VALUE", integration_code="CODE-XYZ-123"
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    creds: Credentials, sleeps: list[float]
) -> Callable[[Handler], tuple[AutotaskClient, Recorder]]:
    def make(handler: Handler, **kw: Any) -> tuple[AutotaskClient, Recorder]:
        recorder = Recorder(handler)
        http = httpx.Client(transport=httpx.MockTransport(recorder))
        kw.setdefault("retry", RetryPolicy(sleep=sleeps.append))
        return AutotaskClient(creds, http=http, **kw), recorder

    return make
