"""Issue 7 end to end on the simulator: an order, its invoices and their sync, through the
GraphQL API, the outbox, the relay, the broker and the worker. The simulator's contract units
for every day of each billed month equal the invoice, mid-month changes included (S3-S5, S7,
S10; O2-O7, P3)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import dramatiq
import pytest

from autotask_sim import SimHandle
from prism_graph.outbox.relay import Relay
from tests.conftest import drain
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
from tests.integration.sync.mapping_support import (
    CONTOSO,
    CONTOSO_CONTRACT,
    add_customer,
    connect,
    map_to_contract,
    program_sync,
)
from tests.support.clock import freeze, noon_utc
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import month_of

pytestmark = pytest.mark.e2e

RUNS = """query($p: ID!) { invoiceSyncRuns(programId: $p, first: 10) { edges { node {
  trigger status customersSynced customersFailed invoice { id }
  customers { customer { name } outcome
    subscriptions { sku periodStart periodEnd quantity outcome message } }
  reconciliation { sku asOf invoiceUnits psaUnits matches } } } } }"""


def units_per_day(autotask: SimHandle, contract: int, service_name: str, month: date) -> list[int]:
    """The simulator's ContractServiceUnits of a service on a contract, for each day."""
    service = next(s for s in autotask.sim.records("Services") if s["name"] == service_name)
    services = [
        cs
        for cs in autotask.sim.records("ContractServices")
        if cs["contractID"] == contract and cs["serviceID"] == service["id"]
    ]
    first, last = month_of(month)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if not services:
        return [0] * len(days)
    rows = list(autotask.sim.units(int(services[0]["id"])))
    out = []
    for day in days:
        found = [
            int(r["units"])
            for r in rows
            if str(r["startDate"])[:10] <= day.isoformat() <= str(r["endDate"])[:10]
        ]
        out.append(found[0] if found else 0)
    return out


def invoiced_per_day(invoice: dict[str, Any], sku: str, month: date) -> list[int]:
    """The invoice's quantity of `sku` on each day of the month (0 where no line covers it)."""
    first, last = month_of(month)
    out = []
    for i in range((last - first).days + 1):
        day = (first + timedelta(days=i)).isoformat()
        out.append(
            sum(
                int(line["quantity"])
                for line in invoice["lines"]
                if line["sku"] == sku and line["periodStart"] <= day <= line["periodEnd"]
            )
        )
    return out


async def test_an_order_billed_over_two_months_lands_in_the_contract_unit_for_unit(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    autotask: SimHandle,
    relay: Relay,
    broker: dramatiq.Broker,
    psa_worker: dramatiq.Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    msp = api.as_(tenants.a.admin)
    distributor = api.as_(tenants.distributor.admin)

    def deliver() -> None:
        """The relay publishes what the API committed; the worker handles all of it."""
        while relay.publish_pending():
            pass
        drain(broker, psa_worker)

    # The distributor's price list; partner A connected, the program's sync on (every product)
    catalogue = await make_catalogue(client)
    program = await program_of(client, catalogue.monthly)
    await connect(api, tenants.a.admin)
    await program_sync(api, tenants.a.admin, program, enabled=True)
    synced = await msp.data(
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested errors { code } } }",
        {"p": program},
    )
    assert synced["syncProducts"] == {"requested": True, "errors": []}
    deliver()

    # An order for a new customer from the 10th of next month: 10 seats monthly, 2 annual
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

    # mapped to the simulator's Contoso company and its Recurring Service contract
    await map_to_contract(msp, program, customer, CONTOSO, CONTOSO_CONTRACT)

    async def change_then_bill(quantity: int, effective: date) -> dict[str, Any]:
        """A quantity change, then the month billed once it is over (billing is in arrears
        and orders start in the future: the calendar moves on), and the events delivered."""
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

    # Seats go up to 14 on the 20th; the month is billed and its invoice.issued synced
    first_month = month_of(start)[0]
    billed = await change_then_bill(14, start.replace(day=20))
    # Next month: down to 12 seats from the 5th, billed and synced
    next_month = month_of(first_month + timedelta(days=32))[0]
    billed_next = await change_then_bill(12, next_month.replace(day=5))

    # Then, for both months, the simulator's units on every day equal the invoice's quantity
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
    service = f"PC_{sku}"
    days_first = calendar.monthrange(first_month.year, first_month.month)[1]
    assert invoiced_per_day(invoices[0], sku, first_month) == (
        [0] * 9 + [10] * 10 + [14] * (days_first - 19)
    )
    for invoice, month in zip(invoices, (first_month, next_month), strict=True):
        assert units_per_day(autotask, CONTOSO_CONTRACT, service, month) == invoiced_per_day(
            invoice, sku, month
        )
    assert units_per_day(autotask, CONTOSO_CONTRACT, service, next_month)[3:5] == [14, 12]

    # and the API shows both runs, the annual line skipped with its reason, all reconciled
    runs = [e["node"] for e in (await msp.data(RUNS, {"p": program}))["invoiceSyncRuns"]["edges"]]
    assert [(r["trigger"], r["status"]) for r in runs] == [
        ("INVOICE_ISSUED", "SUCCESS"),
        ("INVOICE_ISSUED", "SUCCESS"),
    ]
    assert {r["invoice"]["id"] for r in runs} == {i["id"] for i in invoices}
    for run in runs:
        assert (run["customersSynced"], run["customersFailed"]) == (1, 0)
        assert run["reconciliation"] and all(r["matches"] for r in run["reconciliation"])
        (woodgrove,) = run["customers"]
        assert woodgrove["outcome"] == "SUCCESS"
        assert (sku, "SUCCESS") in {(s["sku"], s["outcome"]) for s in woodgrove["subscriptions"]}
    # The first month's annual licence and one-time fee are not contract units: each is
    # reported as skipped, with the reason (S5).
    (first_run,) = [r for r in runs if r["invoice"]["id"] == invoices[0]["id"]]
    skipped = [s for s in first_run["customers"][0]["subscriptions"] if s["outcome"] == "SKIPPED"]
    assert len(skipped) == 2 and all(s["message"] for s in skipped), (
        first_run["customers"],
        invoices[0],
    )
