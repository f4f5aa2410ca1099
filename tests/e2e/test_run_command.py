"""What `make run` starts (`prism dev`): the whole system in one process on the embedded default,
serving GraphQL with the demo data. Started as a real process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One `prism dev` process for the module's tests (each start costs seconds)."""
    tmp_path = tmp_path_factory.mktemp("prism-dev")
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PRISM_ENV"}
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prism.sqlite3'}",
        "PORT": str(port),
        "SMTP_PORT": str(free_port()),
        "MAIL_SINK_DIR": str(tmp_path / "mail"),
        "AUTOTASK_SIM_PORT": "0",
        "AUTOTASK_SIM_STATE": str(tmp_path / "autotask-sim.sqlite3"),
    }
    log = (tmp_path / "dev.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "prism_cli", "dev"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError((tmp_path / "dev.log").read_text())
        try:
            return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(up, timeout=60, what="prism dev to be ready")
        yield base, tmp_path / "prism.sqlite3"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_run_serves_graphql_with_demo_customers(running_system: tuple[str, Path]) -> None:
    base, db = running_system

    headers: dict[str, str] = {}

    def post(query: str) -> dict[str, object]:
        response = httpx.post(f"{base}/graphql", json={"query": query}, headers=headers, timeout=10)
        assert response.status_code == 200
        return dict(response.json())

    assert post("{ __typename }") == {"data": {"__typename": "Query"}}
    signed_in = post(
        'mutation { signIn(email: "admin@prism-distribution.example", '
        'password: "prism-demo-password") { accessToken errors { message } } }'
    )
    headers["Authorization"] = "Bearer " + signed_in["data"]["signIn"]["accessToken"]  # type: ignore[index]
    body = post("{ customers(first: 50) { totalCount edges { node { name owner { name } } } } }")
    customers = body["data"]["customers"]  # type: ignore[index]
    names = {e["node"]["name"] for e in customers["edges"]}
    assert {"Fabrikam, Inc.", "Wide World Importers", "Blue Yonder Airlines"} <= names

    graphiql = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()

    # The demo customers' events went through the relay and were handled by the syncer.
    def all_handled() -> bool:
        import sqlite3

        with sqlite3.connect(db) as conn:
            (n,) = conn.execute(
                "SELECT count(*) FROM sync_processed_events WHERE type = 'customer.created'"
            ).fetchone()
        return int(n) == customers["totalCount"]  # type: ignore[index]

    wait_until(all_handled, timeout=20, what="the demo events to be handled")


def test_run_points_the_psa_connection_at_the_local_simulator(
    running_system: tuple[str, Path],
) -> None:
    """S1 in development: the simulator's documented credentials pass the connection test."""
    from autotask_sim.config import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME

    base, _ = running_system
    signed_in = httpx.post(
        f"{base}/graphql",
        json={
            "query": 'mutation { signIn(email: "admin@contoso-partners.example", '
            'password: "prism-demo-password") { accessToken } }'
        },
        timeout=10,
    ).json()
    token = signed_in["data"]["signIn"]["accessToken"]
    tested = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($i: PsaCredentialsInput!) { testPsaConnection(input: $i) "
            "{ ok zoneUrl errors { code message } } }",
            "variables": {
                "i": {
                    "username": DEFAULT_USERNAME,
                    "secret": DEFAULT_SECRET,
                    "integrationCode": DEFAULT_INTEGRATION_CODE,
                }
            },
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    result = tested["data"]["testPsaConnection"]
    assert result["errors"] == [] and result["ok"] is True, tested
    assert result["zoneUrl"].startswith("http://127.0.0.1:")
