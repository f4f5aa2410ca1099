from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

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

#: 2026-02-15T09:00:00Z: the simulator's "today" in these tests.
NOW = 1_771_146_000.0


class Clock:
    """A clock the client's retry sleeps move forward, so waiting takes no time."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim_config(clock: Clock) -> SimConfig:
    return SimConfig(clock=clock)


@pytest.fixture
def app(sim_config: SimConfig) -> Starlette:
    return create_app(sim_config)


@pytest.fixture
def sim(app: Starlette) -> Simulator:
    return app.state.sim  # type: ignore[no-any-return]


@pytest.fixture
def http(app: Starlette) -> Iterator[httpx.Client]:
    with sim_http_client(app) as client:
        yield client


@pytest.fixture
def make_client(http: httpx.Client, clock: Clock) -> Callable[..., ConnectWiseClient]:
    def make(**changes: Any) -> ConnectWiseClient:
        fields = {
            "company_id": DEFAULT_COMPANY_ID,
            "public_key": DEFAULT_PUBLIC_KEY,
            "private_key": DEFAULT_PRIVATE_KEY,
            "client_id": DEFAULT_CLIENT_ID,
        }
        return ConnectWiseClient(
            Credentials(**(fields | changes)),
            http=http,
            retry=RetryPolicy(sleep=clock.sleep, jitter=0.0),
        )

    return make


@pytest.fixture
def client(make_client: Callable[..., ConnectWiseClient]) -> ConnectWiseClient:
    return make_client()
