"""Cassette replay of the client against recorded Autotask traffic.

CI replays with record mode ``none``: an unrecorded request fails the test. To re-record
every cassette against a fresh simulator (production host names in the URIs, credentials
scrubbed)::

    AUTOTASK_CASSETTE_RECORD=all .venv/bin/pytest tests/contract/autotask -q

Each test has its own cassette, named after it, so no test depends on another's order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

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
from tests.support.cassettes import Recording, make_vcr

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


@pytest.fixture
def recorded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Recording[AutotaskClient, Simulator]]:
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

    cassettes = make_vcr(
        CASSETTES,
        RECORD_MODE,
        placeholders=PLACEHOLDERS,
        secrets=secrets,
        filter_query_parameters=[("user", "<USERNAME>")],
    )
    with cassettes.use_cassette(cassette, allow_playback_repeats=False):
        yield Recording(factory, sim)
    http.close()
    if sim is not None:
        sim.close()
