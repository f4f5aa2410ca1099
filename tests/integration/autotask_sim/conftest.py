from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

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

ROOT = "https://webservices2.autotask.net/ATServicesRest/V1.0/"


class Delays(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def delays() -> Delays:
    return Delays()


@pytest.fixture
def sim_config(delays: Delays) -> SimConfig:
    return SimConfig(threshold_latency=False, sleep=delays)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "autotask-sim.sqlite3"


@pytest.fixture
def app(sim_config: SimConfig, state_path: Path) -> Iterator[Starlette]:
    app = create_app(sim_config, state_path)
    yield app
    app.state.sim.close()


@pytest.fixture
def sim(app: Starlette) -> Simulator:
    return app.state.sim  # type: ignore[no-any-return]


@pytest.fixture
def http(app: Starlette) -> Iterator[httpx.Client]:
    with sim_http_client(app) as client:
        yield client


@pytest.fixture
def creds() -> Credentials:
    return Credentials(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(http: httpx.Client, creds: Credentials, sleeps: list[float]) -> AutotaskClient:
    return AutotaskClient(creds, http=http, retry=RetryPolicy(sleep=sleeps.append))


class Api:
    """Raw HTTP against the simulator, with the documented auth headers."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.headers = {
            "UserName": DEFAULT_USERNAME,
            "Secret": DEFAULT_SECRET,
            "ApiIntegrationCode": DEFAULT_INTEGRATION_CODE,
        }

    def __call__(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        url = path if path.startswith("http") else ROOT + path
        return self.http.request(method, url, headers=headers, **kw)


@pytest.fixture
def api(http: httpx.Client) -> Api:
    return Api(http)


@pytest.fixture
def served(state_path: Path, delays: Delays) -> Iterator[Any]:
    """The simulator behind uvicorn on a free loopback port."""
    from autotask_sim import serve_in_thread

    handle = serve_in_thread(
        "127.0.0.1", 0, state_path, config=SimConfig(threshold_latency=False, sleep=delays)
    )
    yield handle
    handle.stop()


@pytest.fixture
def served_client(served: Any, creds: Credentials, sleeps: list[float]) -> Iterator[AutotaskClient]:
    with AutotaskClient(
        creds,
        zone_probe_url=served.url + "/ATServicesRest/",
        retry=RetryPolicy(sleep=sleeps.append),
        timeout=5.0,
    ) as client:
        yield client
