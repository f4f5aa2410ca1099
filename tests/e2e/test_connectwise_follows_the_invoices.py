"""Issue 17 end to end on the ConnectWise simulator: a partner connects ConnectWise through the
API, moves a program to it, maps a customer to an agreement, and the invoices of an order
billed over two months land in the agreement's additions unit for unit, through the outbox,
the relay, the broker and the worker (S1-S5, S7, S10, S13)."""

from __future__ import annotations

from datetime import date, timedelta

import dramatiq
import pytest

from connectwise_sim import (
    DEFAULT_COMPANY_ID,
    SimHandle,
)
from connectwise_sim.entities import ADDITIONS, CATALOG
from connectwise_sim.seed import AGREEMENT_ID, CUSTOMER_IDS, SUBCATEGORY_ID
from prism_graph.outbox.relay import Relay
from tests.conftest import drain
from tests.e2e.order_flow import bill_an_order_over_two_months, invoiced_per_day
from tests.e2e.test_order_to_psa_flow import RUNS
from tests.integration.orders.support import (
    make_catalogue,
    program_of,
)
from tests.integration.sync.mapping_support import map_to_contract
from tests.support.connectwise import api_credentials
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import month_of

pytestmark = pytest.mark.e2e

ACME = CUSTOMER_IDS[0]  # the simulator's Acme Pty Ltd, with its agreement 301

SAVE_CONNECTION = """mutation($input: ConnectWiseCredentialsInput!) {
  saveConnectWiseConnection(input: $input) {
    connection { psa kind username site zoneUrl status requestBudget { used } }
    errors { field code message } } }"""


def units_per_day(handle: SimHandle, agreement: int, identifier: str, month: date) -> list[int]:
    """What ConnectWise bills each day: the quantities of the product's additions in effect
    on the agreement (from the effective day to the day before the cancelled date) add up."""
    (item,) = [i for i in handle.sim.records(CATALOG) if i["identifier"] == identifier]
    additions = [
        a
        for a in handle.sim.records(ADDITIONS)
        if a["agreementId"] == agreement and a["product"]["id"] == item["id"]
    ]
    first, last = month_of(month)
    out = []
    for i in range((last - first).days + 1):
        day = (first + timedelta(days=i)).isoformat()
        out.append(
            sum(
                int(a["quantity"])
                for a in additions
                if a["effectiveDate"][:10] <= day
                and (not a.get("cancelledDate") or day < a["cancelledDate"][:10])
            )
        )
    return out


async def test_a_partner_connects_connectwise_and_its_program_syncs_there(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    connectwise: SimHandle,
    relay: Relay,
    broker: dramatiq.Broker,
    psa_worker: dramatiq.Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    msp = api.as_(tenants.a.admin)

    def deliver() -> None:
        while relay.publish_pending():
            pass
        drain(broker, psa_worker)

    # Wrong keys are refused with what to do, and nothing is stored
    refused = await msp.data(
        SAVE_CONNECTION, {"input": api_credentials(connectwise.url, privateKey="not-the-key")}
    )
    assert refused["saveConnectWiseConnection"]["connection"] is None
    (error,) = refused["saveConnectWiseConnection"]["errors"]
    assert (error["field"], error["code"]) == ("input.privateKey", "PSA_WRONG_SECRET")
    assert "ConnectWise" in error["message"]
    listed = await msp.data("{ psaConnections { psa } }")
    assert listed["psaConnections"] == []

    # The right ones are tested live and stored (keys never shown)
    saved = await msp.data(SAVE_CONNECTION, {"input": api_credentials(connectwise.url)})
    assert saved["saveConnectWiseConnection"]["errors"] == []
    connection = saved["saveConnectWiseConnection"]["connection"]
    assert connection["kind"] == "CONNECTWISE" and connection["status"] == "OK"
    assert connection["site"] == connectwise.url and connection["username"] == DEFAULT_COMPANY_ID
    assert connection["zoneUrl"].startswith(connectwise.url)
    # ConnectWise publishes no request budget: Prism counts its signed requests against its own
    signed = [p for _, p, _ in connectwise.sim.request_log if "companyinfo" not in p]
    assert connection["requestBudget"] == {"used": len(signed)} and signed
    listed = await msp.data("{ psaConnections { kind status } }")
    assert listed["psaConnections"] == [{"kind": "CONNECTWISE", "status": "OK"}]
    assert (await msp.data("{ psaConnection { psa } }"))["psaConnection"] is None

    # Pickers read ConnectWise: subcategories as billing codes, companies, agreements
    codes = await msp.data("{ psaBillingCodes(psa: CONNECTWISE) { id name } }")
    assert SUBCATEGORY_ID in {c["id"] for c in codes["psaBillingCodes"]}
    companies = await msp.data(
        '{ psaCompanies(psa: CONNECTWISE, search: "acme") { edges { node { id name } } } }'
    )
    assert [e["node"]["id"] for e in companies["psaCompanies"]["edges"]] == [ACME]
    contracts = await msp.data(
        "query($c: Int!) { psaContracts(psa: CONNECTWISE, companyId: $c) {"
        " totalCount edges { node { id name } } } }",
        {"c": ACME},
    )
    assert [e["node"]["id"] for e in contracts["psaContracts"]["edges"]] == [AGREEMENT_ID]
    assert contracts["psaContracts"]["totalCount"] == 1

    # The program syncs to ConnectWise; its products become catalog items there
    catalogue = await make_catalogue(client)
    program = await program_of(client, catalogue.monthly)
    settings = await msp.data(
        "mutation($input: ProgramSyncSettingsInput!) { saveProgramSyncSettings(input: $input) {"
        " settings { psa billingCode { id name } } errors { code message } } }",
        {
            "input": {
                "programId": program,
                "psa": "CONNECTWISE",
                "syncEnabled": True,
                "productSyncMode": "ALL",
                "billingCodeId": SUBCATEGORY_ID,
            }
        },
    )
    assert settings["saveProgramSyncSettings"]["errors"] == []
    assert settings["saveProgramSyncSettings"]["settings"]["psa"] == "CONNECTWISE"
    synced = await msp.data(
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested errors { code } } }",
        {"p": program},
    )
    assert synced["syncProducts"] == {"requested": True, "errors": []}
    deliver()
    product_runs = await msp.data(
        "query($p: ID!) { productSyncRuns(programId: $p, first: 5) { edges { node {"
        " trigger status created message items { sku action message } } } } }",
        {"p": program},
    )
    found = [e["node"] for e in product_runs["productSyncRuns"]["edges"]]
    assert found and all(r["status"] in ("SUCCESS", "NO_CHANGE") for r in found), [
        i for r in found for i in r["items"] if i["message"]
    ]
    assert sum(r["created"] for r in found) >= 1
    identifiers = {i["identifier"] for i in connectwise.sim.records(CATALOG)}

    # The order flow of the Autotask test, the customer mapped to Acme's agreement
    billed = await bill_an_order_over_two_months(
        api,
        tenants,
        catalogue,
        program,
        map_customer=lambda customer: map_to_contract(msp, program, customer, ACME, AGREEMENT_ID),
        deliver=deliver,
        monkeypatch=monkeypatch,
    )
    invoices, (first_month, next_month), sku = billed.invoices, billed.months, billed.sku
    identifier = f"PC_{sku}"
    assert identifier in identifiers

    # ConnectWise bills, on every day of both months, the invoice's quantity
    for invoice, month in zip(invoices, (first_month, next_month), strict=True):
        assert units_per_day(connectwise, AGREEMENT_ID, identifier, month) == invoiced_per_day(
            invoice, sku, month
        )
    assert units_per_day(connectwise, AGREEMENT_ID, identifier, next_month)[3:5] == [14, 12]

    # The API shows both runs, synced and reconciled against what ConnectWise holds
    runs = [e["node"] for e in (await msp.data(RUNS, {"p": program}))["invoiceSyncRuns"]["edges"]]
    assert [(r["trigger"], r["status"]) for r in runs] == [
        ("INVOICE_ISSUED", "SUCCESS"),
        ("INVOICE_ISSUED", "SUCCESS"),
    ]
    for run in runs:
        assert (run["customersSynced"], run["customersFailed"]) == (1, 0)
        assert run["reconciliation"] and all(r["matches"] for r in run["reconciliation"])

    # A redelivered invoice sync writes nothing more: ConnectWise already equals the invoice
    before = len(connectwise.sim.records(ADDITIONS))
    again = await msp.data(
        "mutation($p: ID!, $i: ID!) { syncInvoices(input: {programId: $p, invoiceId: $i}) {"
        " requested errors { code message } } }",
        {"p": program, "i": invoices[1]["id"]},
    )
    assert again["syncInvoices"]["errors"] == [] and again["syncInvoices"]["requested"]
    deliver()
    assert len(connectwise.sim.records(ADDITIONS)) == before
