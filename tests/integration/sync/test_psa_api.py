"""S1 through the GraphQL API: an Autotask connection, tested and saved against the simulator,
what Autotask refused said part by part, tenancy (T3) and secrets that never show (N2).
ConnectWise's connection is test_connectwise_connection_api.py's; what a connection is then
used for (program settings, pickers, mapping, product and invoice sync) is told on both
PSAs by this folder's other modules (`psa_side`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import dramatiq
import httpx
import pytest
from sqlalchemy import Engine, text

from autotask_sim import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME, SimHandle
from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from tests.conftest import FAST_HASHING
from tests.support.backends import redis_requested
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import probe_url

pytestmark = pytest.mark.integration

GOOD = {
    "username": DEFAULT_USERNAME,
    "secret": DEFAULT_SECRET,
    "integrationCode": DEFAULT_INTEGRATION_CODE,
}
TEST = """mutation($input: PsaCredentialsInput!) { testPsaConnection(input: $input) {
  ok zoneUrl problem errors { field code message } } }"""
SAVE = """mutation($input: PsaCredentialsInput!) { savePsaConnection(input: $input) {
  connection { psa username zoneUrl status problem statusMessage lastTestedAt }
  errors { field code message } } }"""
CONNECTION = "{ psaConnection { username status problem lastTestedAt zoneUrl } }"


@pytest.fixture
async def api(
    database_url: str, database: Database, broker: dramatiq.Broker, autotask: SimHandle
) -> AsyncIterator[GraphQLClient]:
    settings = GraphSettings(
        database_url=database_url,
        redis_url=redis_requested(),
        prism_env="test",
        autotask_zone_probe_url=probe_url(autotask),
        **FAST_HASHING,
    )
    app = create_app(settings, database=database, broker=broker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        yield GraphQLClient(http)


async def connect_a(api: GraphQLClient, tenants: Tenants) -> None:
    data = await api.as_(tenants.a.admin).data(SAVE, {"input": GOOD})
    assert data["savePsaConnection"]["errors"] == []


@pytest.mark.parametrize(
    ("change", "problem", "field"),
    [
        ({"secret": "not-the-secret"}, "WRONG_SECRET", "input.secret"),
        ({"username": "nobody@nowhere.test"}, "UNKNOWN_USER", "input.username"),
        ({"integrationCode": "X" * 27}, "INVALID_INTEGRATION_CODE", "input.integrationCode"),
    ],
)
async def test_the_connection_test_says_which_part_autotask_refused(
    api: GraphQLClient, tenants: Tenants, change: dict[str, str], problem: str, field: str
) -> None:
    data = await api.as_(tenants.a.admin).data(TEST, {"input": {**GOOD, **change}})

    payload = data["testPsaConnection"]
    assert (payload["ok"], payload["problem"]) == (False, problem)
    assert [e["field"] for e in payload["errors"]] == [field]


async def test_good_credentials_are_saved_encrypted_and_the_secret_never_shows(
    api: GraphQLClient,
    tenants: Tenants,
    sync_engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ok = await api.as_(tenants.a.admin).data(TEST, {"input": GOOD})
    assert ok["testPsaConnection"]["ok"] is True
    assert ok["testPsaConnection"]["zoneUrl"].startswith("http://127.0.0.1")

    response = await api.as_(tenants.a.admin).raw(SAVE, {"variables": None, "input": GOOD})
    assert response.status_code == 200
    shown = await api.as_(tenants.a.member).data(CONNECTION)

    assert shown["psaConnection"]["status"] == "OK"
    assert shown["psaConnection"]["lastTestedAt"] is not None
    for secret in (DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE):
        assert secret not in response.text
        assert secret not in str(shown)
        assert secret not in caplog.text
    with sync_engine.connect() as conn:
        stored = conn.execute(text("SELECT * FROM sync_psa_connections")).one()
        audit = conn.execute(text("SELECT * FROM audit_events")).all()
    assert DEFAULT_SECRET not in str(tuple(stored))
    assert DEFAULT_INTEGRATION_CODE not in str(tuple(stored))
    assert audit and DEFAULT_SECRET not in str(audit)


async def test_wrong_credentials_are_not_saved_and_a_later_failure_shows_in_the_status(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    refused = await api.as_(tenants.a.admin).data(SAVE, {"input": {**GOOD, "secret": "nope"}})
    assert refused["savePsaConnection"]["errors"][0]["code"] == "PSA_WRONG_SECRET"
    assert (await api.as_(tenants.a.admin).data(CONNECTION))["psaConnection"] is None

    await connect_a(api, tenants)
    autotask.sim.config.disabled_user_answer = "plain"  # Autotask may not say why
    autotask.sim.lock_user()
    retest = await api.as_(tenants.a.admin).data(RETEST)

    connection = retest["retestPsaConnection"]["connection"]
    assert (connection["status"], connection["problem"]) == ("FAILING", "WRONG_SECRET")
    assert "locked" in connection["statusMessage"]


RETEST = """mutation { retestPsaConnection {
  connection { status problem statusMessage lastTestedAt } errors { field code message } } }"""


@pytest.mark.parametrize(
    ("disable", "problem", "code", "action"),
    [
        ("lock_user", "USER_LOCKED", "PSA_USER_LOCKED", "uncheck Locked"),
        ("deactivate", "USER_INACTIVE", "PSA_USER_INACTIVE", "check Active"),
    ],
)
async def test_a_locked_or_inactive_api_user_is_reported_as_such_with_what_to_do(
    api: GraphQLClient,
    tenants: Tenants,
    autotask: SimHandle,
    disable: str,
    problem: str,
    code: str,
    action: str,
) -> None:
    a = api.as_(tenants.a.admin)
    await connect_a(api, tenants)
    if disable == "lock_user":
        autotask.sim.lock_user()
    else:
        autotask.sim.activate_user(False)

    tested = (await a.data(TEST, {"input": GOOD}))["testPsaConnection"]
    saved = (await a.data(SAVE, {"input": GOOD}))["savePsaConnection"]
    retested = (await a.data(RETEST))["retestPsaConnection"]
    shown = (await api.as_(tenants.a.member).data(CONNECTION_STATUS))["psaConnection"]

    # the right secret is not called wrong: the API user itself is refused
    assert (tested["ok"], tested["problem"]) == (False, problem)
    [error] = tested["errors"]
    assert (error["field"], error["code"]) == ("input", code)
    assert action in error["message"] and "Admin > Resources (Users)" in error["message"]
    assert "check the Password" not in error["message"]
    assert [e["code"] for e in saved["errors"]] == [code]
    assert saved["connection"] is None
    assert retested["errors"] == []
    assert (retested["connection"]["status"], retested["connection"]["problem"]) == (
        "FAILING",
        problem,
    )
    assert shown == {
        "status": "FAILING",
        "problem": problem,
        "statusMessage": error["message"],
    }

    # unlocked (or activated) in Autotask, the retest clears it
    autotask.sim.lock_user(False)
    autotask.sim.activate_user(True)
    cleared = (await a.data(RETEST))["retestPsaConnection"]["connection"]
    assert (cleared["status"], cleared["problem"], cleared["statusMessage"]) == ("OK", None, None)


CONNECTION_STATUS = "{ psaConnection { status problem statusMessage } }"


async def test_partner_b_neither_sees_nor_uses_partner_as_connection(
    api: GraphQLClient, tenants: Tenants
) -> None:
    await connect_a(api, tenants)

    seen = await api.as_(tenants.b.admin).data(CONNECTION)
    used = await api.as_(tenants.b.admin).post("{ psaBillingCodes { id } }")
    member = await api.as_(tenants.a.member).post(SAVE, {"input": GOOD})

    assert seen["psaConnection"] is None
    assert used["errors"][0]["extensions"]["code"] == "PSA_UNAVAILABLE"
    assert "Connect to Autotask first" in used["errors"][0]["message"]
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
