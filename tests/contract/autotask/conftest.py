"""Cassette replay of the client against recorded Autotask traffic.

CI replays with record mode ``none``: an unrecorded request fails the test. To re-record
every cassette against a fresh simulator (production host names in the URIs, credentials
scrubbed)::

    AUTOTASK_CASSETTE_RECORD=all .venv/bin/pytest tests/contract/autotask -q

Each test has its own cassette, named after it, so no test depends on another's order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
from vcr.request import Request as VcrRequest

from autotask_client import AutotaskClient, Credentials, RetryPolicy
from autotask_sim import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    SimConfig,
    Simulator,
    create_app,
)
from prism_http.testing import sim_http_client

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "autotask"
PRODUCTION = "https://webservices2.autotask.net"
RECORD_MODE = os.environ.get("AUTOTASK_CASSETTE_RECORD", "none")
RECORDED_AT = 1_768_467_600.0  # 2026-01-15T09:00:00Z

PLACEHOLDERS = {
    "Secret": "<SECRET>",
    "UserName": "<USERNAME>",
    "ApiIntegrationCode": "<INTEGRATION_CODE>",
    "ImpersonationResourceId": "<IMPERSONATION_ID>",
}


def secrets() -> list[str]:
    """Every credential value that could have been used while recording."""
    values = {DEFAULT_SECRET, DEFAULT_USERNAME, DEFAULT_INTEGRATION_CODE}
    for name in ("AUTOTASK_SIM_SECRET", "AUTOTASK_SIM_USERNAME", "AUTOTASK_SIM_INTEGRATION_CODE"):
        if os.environ.get(name):
            values.add(os.environ[name])
    return sorted(v for v in values if v)


def _scrub_text(text: str) -> str:
    for value in secrets():
        text = text.replace(value, "<SCRUBBED>")
    return text


def scrub_request(request: VcrRequest) -> VcrRequest:
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        request.body = _scrub_text(body).encode()
    request.uri = _scrub_text(request.uri)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("content")
    if isinstance(body, str):
        response["content"] = _scrub_text(body)
    return response


def json_body(r1: VcrRequest, r2: VcrRequest) -> None:
    """POSTs match on their body, compared as JSON so key order does not matter."""

    def parsed(r: VcrRequest) -> Any:
        if not r.body:
            return None
        try:
            return json.loads(r.body)
        except ValueError:
            return r.body

    assert parsed(r1) == parsed(r2), "bodies differ"


def make_vcr() -> vcr.VCR:
    v = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=RECORD_MODE,
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
        filter_headers=list(PLACEHOLDERS.items()),
        filter_query_parameters=[("user", "<USERNAME>")],
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    v.register_matcher("json_body", json_body)
    return v


class Recording:
    """The client under test, and the simulator behind it while recording."""

    def __init__(self, client_factory: Callable[..., AutotaskClient], sim: Simulator | None):
        self._factory = client_factory
        self.sim = sim
        self.client = client_factory()

    @property
    def recording(self) -> bool:
        return self.sim is not None

    def backdoor(self, action: Callable[[Simulator], Any]) -> None:
        """Change the simulator's state (a UI user's action); a no-op on replay."""
        if self.sim is not None:
            action(self.sim)

    def client_as(self, **changes: Any) -> AutotaskClient:
        return self._factory(**changes)


@pytest.fixture
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Recording]:
    cassette = f"{request.node.name}.yaml"
    sim: Simulator | None = None
    if RECORD_MODE == "none":
        http = httpx.Client()
    else:
        # vcrpy keeps a cassette's old interactions when recording over it; start clean so
        # a cassette holds exactly one run, in order.
        (CASSETTES / cassette).unlink(missing_ok=True)
        # A fixed clock makes re-recording reproducible: cassettes change only when
        # behaviour does.
        config = SimConfig(
            public_url=PRODUCTION, threshold_latency=False, clock=lambda: RECORDED_AT
        )
        app = create_app(config, tmp_path / "record.sqlite3")
        sim = app.state.sim
        http = sim_http_client(app)

    def factory(**changes: Any) -> AutotaskClient:
        fields = {
            "username": DEFAULT_USERNAME,
            "secret": DEFAULT_SECRET,
            "integration_code": DEFAULT_INTEGRATION_CODE,
        }
        return AutotaskClient(
            Credentials(**(fields | changes)), http=http, retry=RetryPolicy(sleep=lambda s: None)
        )

    with make_vcr().use_cassette(cassette, allow_playback_repeats=False):
        yield Recording(factory, sim)
    http.close()
    if sim is not None:
        sim.close()
