"""Issue 7 end to end on the simulator: an order, its invoices and their sync, through the
GraphQL API, the outbox, the relay, the broker and the worker. The simulator's contract units
for every day of each billed month equal the invoice, mid-month changes included (S3-S5, S7,
S10; O2-O7, P3)."""

from __future__ import annotations

from datetime import date, timedelta

import dramatiq
import pytest

from autotask_sim import SimHandle
from prism_graph.outbox.relay import Relay
from tests.conftest import drain
from tests.e2e.order_flow import bill_an_order_over_two_months, invoiced_per_day
from tests.integration.orders.support import (
    make_catalogue,
    program_of,
)
from tests.integration.sync.mapping_support import (
    CONTOSO,
    CONTOSO_CONTRACT,
    connect,
    map_to_contract,
    program_sync,
)
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

    # An order for a new customer from the 10th of next month: 10 seats monthly, 2 annual,
    # mapped to the simulator's Contoso company and its Recurring Service contract; up to 14
    # seats on the 20th, the month billed; down to 12 from the 5th of the next, billed.
    billed = await bill_an_order_over_two_months(
        api,
        tenants,
        catalogue,
        program,
        map_customer=lambda customer: map_to_contract(
            msp, program, customer, CONTOSO, CONTOSO_CONTRACT
        ),
        deliver=deliver,
        monkeypatch=monkeypatch,
    )
    invoices, (first_month, next_month), sku = billed.invoices, billed.months, billed.sku
    service = f"PC_{sku}"

    # Then, for both months, the simulator's units on every day equal the invoice's quantity
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
