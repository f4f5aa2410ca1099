"""Issue 17 end to end on the ConnectWise simulator: a partner connects ConnectWise through the
API, moves a program to it, maps a customer to an agreement, and the invoices of an order
billed over two months land in the agreement's additions unit for unit, through the outbox,
the relay, the broker and the worker (S1-S5, S7, S10, S13)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

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
from tests.e2e.test_order_to_psa_flow import RUNS, invoiced_per_day
from tests.integration.orders.support import (
    CHANGE_QUANTITY,
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    order_input,
    program_of,
    start_next_month,
    submit_order,
)
from tests.integration.sync.mapping_support import add_customer, map_to_contract
from tests.support.clock import freeze, noon_utc
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
    distributor = api.as_(tenants.distributor.admin)

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
    assert connection["requestBudget"] is None  # ConnectWise publishes no request budget
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

    # An order for a customer mapped to Acme's agreement: 10 seats from the 10th
    customer = await add_customer(
        api, tenants.a.admin, program, "Woodgrove Dental", tenant="woodgrove.onmicrosoft.com"
    )
    start = start_next_month(10)
    order = await create_order(msp, customer, **order_input(catalogue, start))
    assert order["errors"] == []
    submitted = await submit_order(msp, order["order"]["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == []
    monthly = next(
        line["subscription"]["id"]
        for line in submitted["order"]["lines"]
        if line["subscription"] is not None and line["billingTerm"] == "MONTHLY"
    )
    await map_to_contract(msp, program, customer, ACME, AGREEMENT_ID)

    async def change_then_bill(quantity: int, effective: date) -> dict[str, Any]:
        changed = await msp.data(
            CHANGE_QUANTITY,
            {
                "input": {
                    "id": monthly,
                    "quantity": quantity,
                    "effectiveFrom": effective.isoformat(),
                }
            },
        )
        assert changed["changeSubscriptionQuantity"]["errors"] == []
        month, end = month_of(effective)
        freeze(monkeypatch, noon_utc(end + timedelta(days=1)))
        billed = await distributor.data(
            "mutation($m: String!) { runBilling(input: { month: $m }) {"
            " issued { id } errors { message } } }",
            {"m": f"{month:%Y-%m}"},
        )
        assert billed["runBilling"]["errors"] == []
        deliver()
        return billed

    # Up to 14 on the 20th, billed; next month down to 12 from the 5th, billed
    first_month = month_of(start)[0]
    billed = await change_then_bill(14, start.replace(day=20))
    next_month = month_of(first_month + timedelta(days=32))[0]
    billed_next = await change_then_bill(12, next_month.replace(day=5))

    invoices = []
    for issued in (billed, billed_next):
        (entry,) = issued["runBilling"]["issued"]
        invoice = await msp.data(
            "query($id: ID!) { invoice(id: $id) { id lines { sku kind billingTerm periodStart"
            " periodEnd quantity } } }",
            {"id": entry["id"]},
        )
        invoices.append(invoice["invoice"])
    sku = next(
        line["sku"]
        for line in invoices[0]["lines"]
        if line["billingTerm"] == "MONTHLY" and line["kind"] == "SUBSCRIPTION"
    )
    identifier = f"PC_{sku}"
    assert identifier in identifiers
    days_first = calendar.monthrange(first_month.year, first_month.month)[1]
    assert invoiced_per_day(invoices[0], sku, first_month) == (
        [0] * 9 + [10] * 10 + [14] * (days_first - 19)
    )
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
