"""A program's sync settings (S2) and its product sync (S3) through the GraphQL API, against
the simulator of each PSA (`psa_side`): the billing code and vendor checked live, the
preview that writes nothing, the run recorded through the outbox and the syncer's worker,
a retired product mapped by hand, and another partner seeing none of it. What differs
between the PSAs (their billing codes, a service already in them, how their request logs
tell a write from a read, where a service's vendor is) is `Settling`, one row per PSA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dramatiq
import pytest
from sqlalchemy import Engine, text

from autotask_sim.seed import (
    EXISTING_SERVICE_ID,
    GENERAL_CODE_ID,
    INACTIVE_RECURRING_CODE_ID,
    RECURRING_CODE_ID,
    VENDOR_COMPANY_ID,
)
from connectwise_sim.entities import CATALOG
from connectwise_sim.seed import EXISTING_ITEM_ID, INACTIVE_SUBCATEGORY_ID, SUBCATEGORY_ID
from connectwise_sim.seed import OWN_COMPANY_ID as CW_OWN_COMPANY_ID
from prism_domain.sync import PsaKind
from prism_graph.outbox.relay import Relay
from tests.conftest import drain
from tests.integration.sync.mapping_support import connect
from tests.support.catalogue import create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.sides import AutotaskSide, ConnectWiseSide, PsaSide

pytestmark = pytest.mark.integration

SETTINGS = """mutation($input: ProgramSyncSettingsInput!) { saveProgramSyncSettings(input: $input) {
  settings { programId psa syncEnabled productSyncMode syncAzureUsage billingCode { id name }
             vendor { id name } notificationEmails }
  errors { field code message } } }"""
PREVIEW = """query($p: ID!) { productSyncPreview(programId: $p) {
  creates updates failures errors { code message }
  items { sku action serviceName unitPrice unitCost warnings message } } }"""
RUNS = """query($p: ID!) { productSyncRuns(programId: $p, first: 10) { totalCount edges { node {
  id trigger status created productsSynced failed
  items { sku action outcome serviceId unitPrice unitCost message } } } }
  productSyncOverview(programId: $p) { lastSuccessfulAt lastRun { id status created } } }"""
MAP = """mutation($input: MapProductToServiceInput!) { mapProductToService(input: $input) {
  service { id name } errors { field code message } } }"""


def _autotask_writes(side: PsaSide) -> list[str]:
    assert isinstance(side, AutotaskSide)
    return [
        f"{method} {path}"
        for method, path, _ in side.handle.sim.request_log
        if method != "GET" and not path.lower().endswith("/query")
    ]


def _connectwise_writes(side: PsaSide) -> list[str]:
    assert isinstance(side, ConnectWiseSide)
    return [f"{method} {path}" for method, path, _ in side.cw.sim.request_log if method != "GET"]


def _autotask_vendors(side: PsaSide) -> dict[str, int | None]:
    assert isinstance(side, AutotaskSide)
    return {str(s["name"]): s.get("vendorCompanyID") for s in side.handle.sim.records("Services")}


def _connectwise_vendors(side: PsaSide) -> dict[str, int | None]:
    assert isinstance(side, ConnectWiseSide)
    return {
        str(item["identifier"]): (item.get("vendor") or {}).get("id")
        for item in side.cw.sim.records(CATALOG)
    }


def _autotask_clear(side: PsaSide) -> None:
    assert isinstance(side, AutotaskSide)
    side.handle.sim.request_log.clear()


def _connectwise_clear(side: PsaSide) -> None:
    assert isinstance(side, ConnectWiseSide)
    side.cw.sim.request_log.clear()


@dataclass(frozen=True)
class Settling:
    """What a program's settings and product sync expect of one PSA's simulator."""

    kind: PsaKind
    billing_code: tuple[int, str]  # the one active billing code a service can be billed by
    not_billing_codes: tuple[int, ...]  # ids the PSA has that are no such code
    vendor: int  # a company that may be the services' vendor
    existing_service: tuple[int, str]  # a service a person made in the PSA
    writes: Callable[[PsaSide], list[str]]  # the requests that changed something
    vendors: Callable[[PsaSide], dict[str, int | None]]  # each service's vendor, by name
    clear_log: Callable[[PsaSide], None]


SETTLING = {
    PsaKind.AUTOTASK: Settling(
        PsaKind.AUTOTASK,
        billing_code=(RECURRING_CODE_ID, "Recurring Cloud Services"),
        # a general (not Recurring Contract Service) code, and a retired recurring one
        not_billing_codes=(GENERAL_CODE_ID, INACTIVE_RECURRING_CODE_ID),
        vendor=VENDOR_COMPANY_ID,
        existing_service=(EXISTING_SERVICE_ID, "Desktop Maintenance"),
        writes=_autotask_writes,
        vendors=_autotask_vendors,
        clear_log=_autotask_clear,
    ),
    PsaKind.CONNECTWISE: Settling(
        PsaKind.CONNECTWISE,
        billing_code=(SUBCATEGORY_ID, "Cloud subscriptions"),
        # an inactive product subcategory, and an id that is no subcategory
        not_billing_codes=(INACTIVE_SUBCATEGORY_ID, 999_999),
        vendor=CW_OWN_COMPANY_ID,  # ConnectWise cannot narrow companies to vendors
        existing_service=(EXISTING_ITEM_ID, "MS-365-BP"),  # a catalog item's identifier
        writes=_connectwise_writes,
        vendors=_connectwise_vendors,
        clear_log=_connectwise_clear,
    ),
}


def settling(side: PsaSide) -> Settling:
    return SETTLING[side.kind]


async def test_program_settings_check_addresses_and_the_billing_code_live(
    side_api: GraphQLClient, client: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    expect = settling(psa_side)
    await connect(side_api, tenants.a.admin, psa_side)
    program = await create_program(client)
    a = side_api.as_(tenants.a.admin)
    code, code_name = expect.billing_code
    base = {
        "programId": program,
        "psa": psa_side.kind.name,
        "syncEnabled": True,
        "productSyncMode": "IN_USE",
    }

    codes = await a.data(
        "query($psa: Psa!) { psaBillingCodes(psa: $psa) { id name } }", {"psa": psa_side.kind.name}
    )
    bad = await a.data(
        SETTINGS,
        {"input": {**base, "billingCodeId": code, "notificationEmails": ["not-an-address"]}},
    )
    wrong_codes = [
        await a.data(SETTINGS, {"input": {**base, "billingCodeId": wrong}})
        for wrong in expect.not_billing_codes
    ]
    no_vendor = await a.data(
        SETTINGS, {"input": {**base, "billingCodeId": code, "vendorCompanyId": 987_654}}
    )
    good = await a.data(
        SETTINGS,
        {
            "input": {
                **base,
                "billingCodeId": code,
                "vendorCompanyId": expect.vendor,
                "syncAzureUsage": True,
                "notificationEmails": ["Ops@Partner-A.example"],
            }
        },
    )

    # the picker lists the billing codes a service can be billed by, and no others
    assert codes["psaBillingCodes"] == [{"id": code, "name": code_name}]
    assert [e["field"] for e in bad["saveProgramSyncSettings"]["errors"]] == [
        "input.notificationEmails.0"
    ]
    for wrong in wrong_codes:
        [error] = wrong["saveProgramSyncSettings"]["errors"]
        assert (error["field"], error["code"]) == ("input.billingCodeId", "NOT_FOUND")
        assert wrong["saveProgramSyncSettings"]["settings"] is None
    assert [(e["field"], e["code"]) for e in no_vendor["saveProgramSyncSettings"]["errors"]] == [
        ("input.vendorCompanyId", "NOT_FOUND")
    ]
    assert good["saveProgramSyncSettings"]["errors"] == []
    settings = good["saveProgramSyncSettings"]["settings"]
    assert settings["psa"] == psa_side.kind.name
    assert settings["billingCode"] == {"id": code, "name": code_name}
    assert settings["vendor"]["id"] == expect.vendor and settings["vendor"]["name"]
    assert settings["notificationEmails"] == ["ops@partner-a.example"]
    assert (settings["productSyncMode"], settings["syncAzureUsage"]) == ("IN_USE", True)
    # another partner sees neither the settings nor the PSA's billing codes
    b = side_api.as_(tenants.b.admin)
    other = await b.data(
        "query($p: ID!) { programSyncSettings(programId: $p) { syncEnabled } }", {"p": program}
    )
    assert other["programSyncSettings"] is None
    refused = await b.post(
        "query($psa: Psa!) { psaBillingCodes(psa: $psa) { id } }", {"psa": psa_side.kind.name}
    )
    assert refused["errors"][0]["extensions"]["code"] == "PSA_UNAVAILABLE"
    assert f"Connect to {psa_side.kind.label} first" in refused["errors"][0]["message"]


async def test_preview_lists_what_a_sync_would_do_and_the_sync_records_its_run(
    side_api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    psa_side: PsaSide,
    broker: dramatiq.Broker,
    side_worker: dramatiq.Worker,
    relay: Relay,
) -> None:
    expect = settling(psa_side)
    await connect(side_api, tenants.a.admin, psa_side)
    program = await create_program(client)
    await create_product(client, program, sku="SKU-ONE", buy_price="8.10", rrp="9.00")
    await create_product(client, program, sku="SKU-TWO", buy_price="20.00", rrp="25.00")
    relay.publish_pending()  # the new prices' events: no partner syncs this program yet
    drain(broker, side_worker)
    a = side_api.as_(tenants.a.admin)
    settings = {
        "programId": program,
        "psa": psa_side.kind.name,
        "syncEnabled": True,
        "productSyncMode": "ALL",
        "billingCodeId": expect.billing_code[0],
        "vendorCompanyId": expect.vendor,
    }
    saved = await a.data(SETTINGS, {"input": settings})
    assert saved["saveProgramSyncSettings"]["errors"] == []
    expect.clear_log(psa_side)

    # the preview lists the two creations and writes nothing
    preview = (await a.data(PREVIEW, {"p": program}))["productSyncPreview"]
    assert (preview["creates"], preview["updates"], preview["errors"]) == (2, 0, [])
    assert [(i["sku"], i["action"], i["serviceName"]) for i in preview["items"]] == [
        ("SKU-ONE", "CREATE", "PC_SKU-ONE"),
        ("SKU-TWO", "CREATE", "PC_SKU-TWO"),
    ]
    assert expect.writes(psa_side) == []

    # the sync runs through the outbox and the worker, and is recorded
    requested = await a.data(
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested errors { code } } }",
        {"p": program},
    )
    assert requested["syncProducts"] == {"requested": True, "errors": []}
    assert relay.publish_pending() == 1
    drain(broker, side_worker)

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
    assert len(expect.writes(psa_side)) == 2  # one service made per product
    vendors = expect.vendors(psa_side)
    assert (vendors["PC_SKU-ONE"], vendors["PC_SKU-TWO"]) == (expect.vendor, expect.vendor)
    assert history["productSyncOverview"]["lastRun"]["id"] == run["id"]
    assert history["productSyncOverview"]["lastSuccessfulAt"] is not None
    after = (await a.data(PREVIEW, {"p": program}))["productSyncPreview"]
    assert (after["creates"], after["updates"]) == (0, 0)

    # partner B sees none of it
    b = side_api.as_(tenants.b.admin)
    hidden = await b.data(
        "query($id: ID!, $p: ID!) { productSyncRun(id: $id) { id } "
        "productSyncRuns(programId: $p) { totalCount edges { node { id } } } }",
        {"id": run["id"], "p": program},
    )
    assert hidden == {"productSyncRun": None, "productSyncRuns": {"totalCount": 0, "edges": []}}


async def test_a_retired_product_is_mapped_by_hand_and_never_changed_by_the_sync(
    side_api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    psa_side: PsaSide,
    sync_engine: Engine,
) -> None:
    expect = settling(psa_side)
    await connect(side_api, tenants.a.admin, psa_side)
    program = await create_program(client)
    a = side_api.as_(tenants.a.admin)
    saved = await a.data(
        SETTINGS,
        {
            "input": {
                "programId": program,
                "psa": psa_side.kind.name,
                "syncEnabled": True,
                "productSyncMode": "ALL",
                "billingCodeId": expect.billing_code[0],
            }
        },
    )
    assert saved["saveProgramSyncSettings"]["errors"] == []
    retired = await create_product(client, program, sku="SKU-OLD")
    listed = await create_product(client, program, sku="SKU-NEW")
    with sync_engine.begin() as conn:
        conn.execute(text("UPDATE products SET retired = :t WHERE sku = 'SKU-OLD'"), {"t": True})
    service, service_name = expect.existing_service

    refused = await a.data(MAP, {"input": {"productId": listed, "serviceId": service}})
    missing = await a.data(MAP, {"input": {"productId": retired, "serviceId": 999}})
    mapped = await a.data(MAP, {"input": {"productId": retired, "serviceId": service}})

    assert [e["code"] for e in refused["mapProductToService"]["errors"]] == ["NOT_ALLOWED"]
    [error] = missing["mapProductToService"]["errors"]
    assert (error["field"], error["code"]) == ("input.serviceId", "NOT_FOUND")
    assert psa_side.kind.label in error["message"]
    assert mapped["mapProductToService"] == {
        "service": {"id": service, "name": service_name},
        "errors": [],
    }
    preview = (await a.data(PREVIEW, {"p": program}))["productSyncPreview"]
    by_sku = {i["sku"]: i for i in preview["items"]}
    assert by_sku["SKU-OLD"]["action"] == "SKIP"
    assert "Mapped by hand" in by_sku["SKU-OLD"]["message"]
    assert by_sku["SKU-NEW"]["action"] == "CREATE"
    other = await side_api.as_(tenants.b.admin).data(
        MAP, {"input": {"productId": retired, "serviceId": service}}
    )
    assert other["mapProductToService"]["errors"][0]["code"] == "PSA_NOT_CONNECTED"
