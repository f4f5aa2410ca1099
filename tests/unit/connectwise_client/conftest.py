from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectwise_client import ConnectWiseClient, Credentials, RetryPolicy

SITE = "api-eu.myconnectwise.net"
BASE = f"https://{SITE}/v2025_1/apis/3.0/"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that answers companyinfo and records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.startswith("/login/companyinfo/"):
            return httpx.Response(200, json={"Codebase": "v2025_1/", "CompanyName": "Acme MSP"})
        return self.handler(request)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if "/login/" not in r.url.path]


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


@pytest.fixture
def creds() -> Credentials:
    return Credentials(
        company_id="acmemsp",
        public_key="PUBkey123",
        private_key="PRIVATE-secret-987",
        client_id="11111111-2222-4333-8444-555555555555",
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    creds: Credentials, sleeps: list[float]
) -> Callable[..., tuple[ConnectWiseClient, Recorder]]:
    def make(handler: Handler, **kw: Any) -> tuple[ConnectWiseClient, Recorder]:
        recorder = Recorder(handler)
        retry = kw.pop("retry", None) or RetryPolicy(sleep=sleeps.append, jitter=0.0)
        client = ConnectWiseClient(
            creds,
            site=SITE,
            http=httpx.Client(transport=httpx.MockTransport(recorder)),
            retry=retry,
            **kw,
        )
        return client, recorder

    return make
