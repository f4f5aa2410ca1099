"""S1, S2, S3 (preview and trigger) and S7 through the GraphQL API, against the simulator;
tenancy (T3) and secrets that never show (N2)."""

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
from prism_graph.outbox.relay import Relay
from prism_graph.settings import GraphSettings
from prism_platform.broker import EVENTS_QUEUE
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer
from tests.conftest import FAST_HASHING, drain
from tests.support.backends import redis_requested
from tests.support.catalogue import create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import RECURRING_CODE_ID, VENDOR_COMPANY_ID, probe_url

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
SETTINGS = """mutation($input: ProgramSyncSettingsInput!) { saveProgramSyncSettings(input: $input) {
  settings { programId syncEnabled productSyncMode syncAzureUsage billingCode { id name }
             vendor { id name } notificationEmails }
  errors { field code message } } }"""
PREVIEW = """query($p: ID!) { productSyncPreview(programId: $p) {
  creates updates failures errors { code message }
  items { sku action serviceName unitPrice unitCost warnings message } } }"""
RUNS = """query($p: ID!) { productSyncRuns(programId: $p, first: 10) { totalCount edges { node {
  id trigger status created productsSynced failed
  items { sku action outcome serviceId unitPrice unitCost message } } } }
  productSyncOverview(programId: $p) { lastSuccessfulAt lastRun { id status created } } }"""


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


async def test_pickers_list_live_recurring_codes_vendors_and_active_recurring_contracts(
    api: GraphQLClient, tenants: Tenants
) -> None:
    await connect_a(api, tenants)
    a = api.as_(tenants.a.admin)

    data = await a.data(
        """{ psaBillingCodes { id name }
        vendors: psaCompanies(vendorsOnly: true) { edges { node { id name } } }
        contoso: psaCompanies(search: "conto") { edges { node { id name } } }
        psaContracts { edges { node { id name } } } }"""
    )

    def ids(picker: dict[str, list[dict[str, dict[str, object]]]], key: str = "id") -> list[object]:
        return [edge["node"][key] for edge in picker["edges"]]

    assert [c["id"] for c in data["psaBillingCodes"]] == [RECURRING_CODE_ID]
    assert ids(data["vendors"]) == [VENDOR_COMPANY_ID]
    assert ids(data["contoso"], "name") == ["Contoso Pty Ltd"]
    assert set(ids(data["psaContracts"])) == {29683001, 29683002}


async def test_program_settings_check_addresses_and_the_billing_code_live(
    api: GraphQLClient, client: GraphQLClient, tenants: Tenants
) -> None:
    await connect_a(api, tenants)
    program = await create_program(client)
    a = api.as_(tenants.a.admin)
    base = {"programId": program, "syncEnabled": True, "productSyncMode": "IN_USE"}

    bad = await a.data(
        SETTINGS,
        {"input": {**base, "billingCodeId": 29682803, "notificationEmails": ["not-an-address"]}},
    )
    wrong_code = await a.data(SETTINGS, {"input": {**base, "billingCodeId": 29682803}})
    good = await a.data(
        SETTINGS,
        {
            "input": {
                **base,
                "billingCodeId": RECURRING_CODE_ID,
                "vendorCompanyId": VENDOR_COMPANY_ID,
                "syncAzureUsage": True,
                "notificationEmails": ["Ops@Partner-A.example"],
            }
        },
    )

    assert [e["field"] for e in bad["saveProgramSyncSettings"]["errors"]] == [
        "input.notificationEmails.0"
    ]
    assert [e["code"] for e in wrong_code["saveProgramSyncSettings"]["errors"]] == ["NOT_FOUND"]
    settings = good["saveProgramSyncSettings"]["settings"]
    assert settings["billingCode"] == {"id": RECURRING_CODE_ID, "name": "Recurring Cloud Services"}
    assert settings["vendor"]["id"] == VENDOR_COMPANY_ID
    assert settings["notificationEmails"] == ["ops@partner-a.example"]
    assert (settings["productSyncMode"], settings["syncAzureUsage"]) == ("IN_USE", True)
    other = await api.as_(tenants.b.admin).data(
        "query($p: ID!) { programSyncSettings(programId: $p) { syncEnabled } }", {"p": program}
    )
    assert other["programSyncSettings"] is None


async def test_preview_lists_what_a_sync_would_do_and_the_sync_records_its_run(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    autotask: SimHandle,
    database_url: str,
    broker: dramatiq.Broker,
    sync_engine: Engine,
    relay: Relay,
) -> None:
    syncer = build_syncer(
        SyncerSettings(
            database_url=database_url,
            redis_url=redis_requested(),
            prism_env="test",
            autotask_zone_probe_url=probe_url(autotask),
        ),
        broker=broker,
        engine=sync_engine,
    )
    worker = dramatiq.Worker(
        syncer.broker, worker_threads=1, queues={EVENTS_QUEUE}, worker_timeout=50
    )
    worker.start()
    try:
        await connect_a(api, tenants)
        program = await create_program(client)
        await create_product(client, program, sku="SKU-ONE", buy_price="8.10", rrp="9.00")
        await create_product(client, program, sku="SKU-TWO", buy_price="20.00", rrp="25.00")
        relay.publish_pending()  # the new prices' events: no partner syncs this program yet
        drain(broker, worker)
        a = api.as_(tenants.a.admin)
        settings = {
            "programId": program,
            "syncEnabled": True,
            "productSyncMode": "ALL",
            "billingCodeId": RECURRING_CODE_ID,
        }
        saved = await a.data(SETTINGS, {"input": settings})
        assert saved["saveProgramSyncSettings"]["errors"] == []
        autotask.sim.request_log.clear()

        # the preview lists the two creations and writes nothing
        preview = (await a.data(PREVIEW, {"p": program}))["productSyncPreview"]
        assert (preview["creates"], preview["updates"], preview["errors"]) == (2, 0, [])
        assert [(i["sku"], i["action"], i["serviceName"]) for i in preview["items"]] == [
            ("SKU-ONE", "CREATE", "PC_SKU-ONE"),
            ("SKU-TWO", "CREATE", "PC_SKU-TWO"),
        ]
        assert [m for m, p, _ in autotask.sim.request_log if m != "GET" and "query" not in p] == []

        # the sync runs through the outbox and the worker, and is recorded
        requested = await a.data(
            "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested errors { code } } }",
            {"p": program},
        )
        assert requested["syncProducts"] == {"requested": True, "errors": []}
        assert relay.publish_pending() == 1
        drain(broker, worker)
    finally:
        worker.stop()

    history = await a.data(RUNS, {"p": program})
    [run] = [edge["node"] for edge in history["productSyncRuns"]["edges"]]
    assert history["productSyncRuns"]["totalCount"] == 1
    assert (run["trigger"], run["status"], run["created"], run["failed"]) == (
        "MANUAL",
        "SUCCESS",
        2,
        0,
    )
    assert [(i["sku"], i["outcome"]) for i in run["items"]] == [
        ("SKU-ONE", "SUCCESS"),
        ("SKU-TWO", "SUCCESS"),
    ]
    assert history["productSyncOverview"]["lastRun"]["id"] == run["id"]
    assert history["productSyncOverview"]["lastSuccessfulAt"] is not None
    after = (await a.data(PREVIEW, {"p": program}))["productSyncPreview"]
    assert (after["creates"], after["updates"]) == (0, 0)

    # partner B sees none of it
    b = api.as_(tenants.b.admin)
    hidden = await b.data(
        "query($id: ID!, $p: ID!) { productSyncRun(id: $id) { id } "
        "productSyncRuns(programId: $p) { totalCount edges { node { id } } } }",
        {"id": run["id"], "p": program},
    )
    assert hidden == {"productSyncRun": None, "productSyncRuns": {"totalCount": 0, "edges": []}}


MAP = """mutation($input: MapProductToServiceInput!) { mapProductToService(input: $input) {
  service { id name } errors { field code message } } }"""


async def test_a_retired_product_is_mapped_by_hand_and_never_changed_by_the_sync(
    api: GraphQLClient, client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    await connect_a(api, tenants)
    program = await create_program(client)
    retired = await create_product(client, program, sku="SKU-OLD")
    listed = await create_product(client, program, sku="SKU-NEW")
    with sync_engine.begin() as conn:
        conn.execute(text("UPDATE products SET retired = :t WHERE sku = 'SKU-OLD'"), {"t": True})
    a = api.as_(tenants.a.admin)
    existing_service = 29683401  # "Desktop Maintenance" in the simulator's seed

    refused = await a.data(MAP, {"input": {"productId": listed, "serviceId": existing_service}})
    missing = await a.data(MAP, {"input": {"productId": retired, "serviceId": 999}})
    mapped = await a.data(MAP, {"input": {"productId": retired, "serviceId": existing_service}})

    assert [e["code"] for e in refused["mapProductToService"]["errors"]] == ["NOT_ALLOWED"]
    assert [e["field"] for e in missing["mapProductToService"]["errors"]] == ["input.serviceId"]
    assert mapped["mapProductToService"]["service"] == {
        "id": existing_service,
        "name": "Desktop Maintenance",
    }
    preview = (await a.data(PREVIEW, {"p": program}))["productSyncPreview"]
    by_sku = {i["sku"]: i for i in preview["items"]}
    assert by_sku["SKU-OLD"]["action"] == "SKIP"
    assert "Mapped by hand" in by_sku["SKU-OLD"]["message"]
    assert by_sku["SKU-NEW"]["action"] == "CREATE"
    other = await api.as_(tenants.b.admin).data(
        MAP, {"input": {"productId": retired, "serviceId": existing_service}}
    )
    assert other["mapProductToService"]["errors"][0]["code"] == "PSA_NOT_CONNECTED"
