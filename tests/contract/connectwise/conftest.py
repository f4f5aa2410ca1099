"""Cassette replay of the ConnectWise client against recorded traffic.

CI replays with record mode ``none``: an unrecorded request fails the test. To re-record
every cassette against a fresh simulator (the production host name in the URIs,
credentials scrubbed)::

    CONNECTWISE_CASSETTE_RECORD=all .venv/bin/pytest tests/contract/connectwise -q

Each test has its own cassette, named after it, so no test depends on another's order.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectwise_client import ConnectWiseClient, Credentials, RetryPolicy
from connectwise_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SimConfig,
    Simulator,
    create_app,
)
from prism_http.testing import sim_http_client
from tests.support.cassettes import Recording, make_vcr

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "connectwise"
PRODUCTION_HOST = "api-na.myconnectwise.net"
RECORD_MODE = os.environ.get("CONNECTWISE_CASSETTE_RECORD", "none")
RECORDED_AT = 1_771_146_000.0  # 2026-02-15T09:00:00Z

PLACEHOLDERS = {"Authorization": "<AUTHORIZATION>", "clientId": "<CLIENT_ID>"}


def secrets() -> list[str]:
    """Every credential value that could have been used while recording."""
    values = {DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, DEFAULT_CLIENT_ID}
    for name in (
        "CONNECTWISE_SIM_PRIVATE_KEY",
        "CONNECTWISE_SIM_PUBLIC_KEY",
        "CONNECTWISE_SIM_CLIENT_ID",
    ):
        if os.environ.get(name):
            values.add(os.environ[name])
    token = f"{DEFAULT_COMPANY_ID}+{DEFAULT_PUBLIC_KEY}:{DEFAULT_PRIVATE_KEY}"
    values.add(base64.b64encode(token.encode()).decode())
    return sorted(v for v in values if v)


@pytest.fixture
def recorded(request: pytest.FixtureRequest) -> Iterator[Recording[ConnectWiseClient, Simulator]]:
    cassette = f"{request.node.name}.yaml"
    sim: Simulator | None = None
    if RECORD_MODE == "none":
        http = httpx.Client()
    else:
        # vcrpy keeps a cassette's old interactions when recording over it; start clean.
        (CASSETTES / cassette).unlink(missing_ok=True)
        # A fixed clock makes re-recording reproducible: cassettes change only with behaviour.
        app = create_app(SimConfig(clock=lambda: RECORDED_AT))
        sim = app.state.sim
        http = sim_http_client(app)

    def factory(**changes: Any) -> ConnectWiseClient:
        fields = {
            "company_id": DEFAULT_COMPANY_ID,
            "public_key": DEFAULT_PUBLIC_KEY,
            "private_key": DEFAULT_PRIVATE_KEY,
            "client_id": DEFAULT_CLIENT_ID,
        }
        return ConnectWiseClient(
            Credentials(**(fields | changes)),
            site=PRODUCTION_HOST,
            http=http,
            retry=RetryPolicy(sleep=lambda s: None),
        )

    cassettes = make_vcr(CASSETTES, RECORD_MODE, placeholders=PLACEHOLDERS, secrets=secrets)
    with cassettes.use_cassette(cassette, allow_playback_repeats=False):
        yield Recording(factory, sim)
    http.close()
    if sim is not None:
        sim.close()
