"""The per-subscription detail of an invoice sync run (S7) shows what the PSA received: a
usage line (metered, e.g. Azure or SPLA) is sent as one unit at the month's usage amount
(S5), and the detail reads that back from the PSA rather than repeating the invoice's
metered quantity and rate. Through the GraphQL API, after a real run against the simulator
of each PSA (`psa_side`). The read-back that fails after the write stays Autotask's: its
fault fails Autotask's units query, which the sync asks only after writing; ConnectWise's
read-back is the same additions read the sync plans from, so a fault there stops the run
before it writes (no simulator fault fails only the reads after a write)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from autotask_sim import Fault, SimHandle
from prism_domain.invoicing import LineKind
from tests.integration.syncer.invoices.support import NOV, Line, World, month_end
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid
from tests.support.psa import add_product, add_program
from tests.support.sides import AutotaskSide, PsaSide

pytestmark = pytest.mark.integration

DETAIL = """query($id: ID!) { invoiceSyncRun(id: $id) { status
  customers { subscriptions { subscriptionId code sku periodStart quantity unitPrice unitCost outcome } } } }"""


def partner_a_world(engine: Engine, side: PsaSide, tenants: Tenants) -> World:
    autotask = side.handle if isinstance(side, AutotaskSide) else None
    world = World(engine, autotask, partner=tenants.a.id, psa=side)
    world.program = add_program(engine)
    side.connect(engine, world.partner, world.program)
    for short in ("AZURE", "E3"):
        world.products[short] = add_product(engine, world.program, f"{short}-{tenants.a.id}")
    world.product_sync()
    world.settings(sync_azure_usage=True)
    return world


def subscriptions(data: dict[str, object]) -> dict[str, dict[str, object]]:
    """The invoice lines' results by SKU (not the run's extra items, which name no line)."""
    run = data["invoiceSyncRun"]
    assert isinstance(run, dict)
    lines = [s for c in run["customers"] for s in c["subscriptions"] if s["subscriptionId"]]
    assert len({s["sku"] for s in lines}) == len(lines)
    return {s["sku"]: s for s in lines}


async def test_a_usage_line_shows_the_one_unit_at_the_months_amount_the_psa_holds(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = partner_a_world(sync_engine, psa_side, tenants)
    customer = world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(
                customer,
                "AZURE",
                "120.5",
                NOV,
                month_end(NOV),
                kind=LineKind.USAGE,
                term=None,
                price="0.10",
                cost="0.08",
            ),
            Line(customer, "E3", 5, NOV, month_end(NOV)),
        ],
    )

    run = world.sync(invoice)
    data = await side_api.as_(tenants.a.admin).data(DETAIL, {"id": gid("InvoiceSyncRun", run.id)})

    assert data["invoiceSyncRun"]["status"] == "SUCCESS"
    shown = subscriptions(data)
    azure, e3 = shown[world.sku("AZURE")], shown[world.sku("E3")]
    # what Autotask received, read back: 1 unit at 120.5 x 0.10, cost 120.5 x 0.08
    assert (azure["quantity"], azure["unitPrice"], azure["unitCost"]) == ("1", "12.05", "9.64")
    assert azure["outcome"] == "SUCCESS" and azure["periodStart"] == NOV.isoformat()
    # a licence line is sent as billed
    assert (e3["quantity"], e3["unitPrice"], e3["unitCost"]) == ("5", "36.00", "32.40")


async def test_a_usage_line_that_could_not_be_read_back_shows_no_made_up_numbers(
    api: GraphQLClient, tenants: Tenants, sync_engine: Engine, autotask: SimHandle
) -> None:
    world = partner_a_world(sync_engine, AutotaskSide(autotask), tenants)
    customer = world.customer()
    usage = Line(
        customer, "AZURE", "40", NOV, month_end(NOV), kind=LineKind.USAGE, term=None, price="0.25"
    )
    invoice = world.invoice(NOV, [usage])
    # the adjustment is written, then every read of the units after it fails
    autotask.sim.add_fault(Fault("error", path="ContractServiceUnits/query", times=None))

    run = world.sync(invoice)
    data = await api.as_(tenants.a.admin).data(DETAIL, {"id": gid("InvoiceSyncRun", run.id)})

    autotask.sim.faults.clear()
    written = autotask.sim.units(world.contract_service(customer, "AZURE") or 0)
    assert [u["units"] for u in written if str(u["startDate"]).startswith("2026-11-01")] == [1]
    azure = subscriptions(data)[world.sku("AZURE")]
    # neither the invoice's 40 at 0.25 nor the planned 1 at 10.00: Autotask's side is unknown
    assert (azure["quantity"], azure["unitPrice"], azure["unitCost"]) == (None, None, None)
    assert data["invoiceSyncRun"]["status"] == "FAILURE"  # and the run says it could not check
    extra = [
        s
        for c in data["invoiceSyncRun"]["customers"]
        for s in c["subscriptions"]
        if not s["subscriptionId"]
    ]
    assert [s["code"] for s in extra] == ["NOT_RECONCILED"]
