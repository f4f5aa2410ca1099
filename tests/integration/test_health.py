"""/healthz, /readyz and what clients see when the database or broker is unreachable."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from prism_platform.broker import make_broker
from prism_platform.db import make_async_engine
from prism_platform.migrate import alembic_config, head_revisions, upgrade
from tests.support.backends import scratch_database
from tests.support.graphql import GraphQLClient
from tests.support.identity import sign_in_request

pytestmark = pytest.mark.integration

# Nothing listens on port 1 of the loopback: connections are refused at once.
UNREACHABLE_DB = "postgresql://prism@127.0.0.1:1/prism?connect_timeout=2"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def test_alive_and_ready(client: GraphQLClient) -> None:
    assert (await client.http.get("/healthz")).json() == {"status": "ok"}
    ready = await client.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["migrations"] == f"ok (at {', '.join(head_revisions())})"
    assert ready.json()["checks"]["broker"].startswith("ok")


async def test_the_readiness_probe_adds_nothing_to_the_logs(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Probed every few seconds, /readyz logs nothing of Prism's or alembic's at INFO or above
    (the migration check reads the version table without alembic's INFO lines)."""
    caplog.set_level(logging.INFO)

    for _ in range(3):
        assert (await client.http.get("/readyz")).status_code == 200

    assert [r.getMessage() for r in caplog.records if r.name.startswith(("prism", "alembic"))] == []


async def test_graphql_answers_typename(client: GraphQLClient) -> None:
    assert await client.data("{ __typename }") == {"__typename": "Query"}


async def test_an_unreachable_database_is_reported_clearly() -> None:
    settings = GraphSettings(database_url=UNREACHABLE_DB, prism_env="test")
    database = Database(make_async_engine(UNREACHABLE_DB))
    app = create_app(settings, database=database, broker=make_broker(None))
    signed_in = {"Authorization": "Bearer prism_at_" + "x" * 43}
    sign_in = sign_in_request("a@b.example", "p")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://prism.test"
    ) as http:
        ready = await http.get("/readyz")
        query = await http.post(
            "/graphql", json={"query": "{ customers { totalCount } }"}, headers=signed_in
        )
        anonymous_sign_in = await http.post("/graphql", json=sign_in)
    await database.engine.dispose()

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unreachable")
    assert ready.json()["checks"]["migrations"] == "unknown (the database is unreachable)"
    assert query.status_code == 503  # the token cannot even be checked
    for answer in (query.json(), anonymous_sign_in.json()):
        (error,) = answer["errors"]
        assert error["message"] == "The database is unavailable; try again shortly."
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "Traceback" not in str(answer) and "127.0.0.1" not in str(answer)


async def test_an_unreachable_broker_makes_the_service_unready(database: Database) -> None:
    settings = GraphSettings(database_url="sqlite://", prism_env="test")
    broker = make_broker(UNREACHABLE_REDIS, namespace="prism-unreachable")
    app = create_app(settings, database=database, broker=broker)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://prism.test"
    ) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"].startswith("unreachable")


async def _readyz(database_url: str) -> httpx.Response:
    settings = GraphSettings(database_url=database_url, prism_env="test")
    database = Database(make_async_engine(database_url))
    app = create_app(settings, database=database, broker=make_broker(None))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://prism.test"
        ) as http:
            return await http.get("/readyz")
    finally:
        await database.engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own (PostgreSQL when the suite runs there), never migrated."""
    with scratch_database(tmp_path) as url:
        yield url


async def test_a_database_never_migrated_makes_the_service_unready(
    empty_database_url: str,
) -> None:
    ready = await _readyz(empty_database_url)

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "ok"  # reachable, but not usable
    assert ready.json()["checks"]["migrations"] == (
        "not migrated (no migration has run): run `prism migrate`"
    )


async def test_a_database_one_migration_behind_makes_the_service_unready(
    empty_database_url: str,
) -> None:
    (head,) = head_revisions()
    previous = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_revision(head)
    assert previous is not None and isinstance(previous.down_revision, str)
    upgrade(empty_database_url, previous.down_revision)

    behind = await _readyz(empty_database_url)
    upgrade(empty_database_url)
    at_head = await _readyz(empty_database_url)

    assert behind.status_code == 503
    assert behind.json()["checks"]["migrations"] == (
        f"at revision {previous.down_revision}, 1 migration behind head {head}: run `prism migrate`"
    )
    assert at_head.status_code == 200
    assert at_head.json()["checks"]["migrations"] == f"ok (at {head})"
