"""Reverting an invoice sync run through the API, end to end (S10; docs/psa-sync.md,
"Reverting a run"): the mutation records the request in the outbox, the relay and the
syncer's worker revert the run against the simulator of each PSA, and every day's units are
read back equal to those before the run. And the rule's refusals, immediately."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine

from prism_graph.outbox.relay import Relay
from tests.conftest import drain
from tests.integration.syncer.invoices.support import NOV, Line, World
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import (
    add_product,
    add_program,
    days,
)
from tests.support.sides import AutotaskSide, PsaSide

pytestmark = pytest.mark.integration

OCT = date(2026, 10, 1)
HORIZON = (date(2026, 9, 25), date(2027, 1, 10))

SYNC = """mutation($input: SyncInvoicesInput!) { syncInvoices(input: $input) {
  requested errors { field code message } } }"""
REVERT = """mutation($input: RevertInvoiceSyncRunInput!) { revertInvoiceSyncRun(input: $input) {
  requested run { id status } errors { field code message } } }"""
RUNS = """query($p: ID!) { invoiceSyncRuns(programId: $p) { totalCount edges { node {
  id trigger status adjustmentsApplied message
  reverts { id } revertedBy { id trigger status } } } } }"""


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@pytest.fixture
def world(sync_engine: Engine, psa_side: PsaSide, tenants: Tenants, database_url: str) -> World:
    """Partner A connected to the PSA, a program with sync on and two products in it."""
    autotask = psa_side.handle if isinstance(psa_side, AutotaskSide) else None
    world = World(sync_engine, autotask, partner=tenants.a.id, psa=psa_side)
    world.program = add_program(sync_engine)
    psa_side.connect(sync_engine, world.partner, world.program)
    for sku in ("E3", "E5"):
        world.products[sku] = add_product(sync_engine, world.program, f"{sku}-{world.partner}")
    world.product_sync()
    return world


class Flow:
    """Partner A's admin at the API, the relay and the worker carrying its requests."""

    def __init__(
        self, api: GraphQLClient, tenants: Tenants, relay: Relay, broker: Any, worker: Any
    ) -> None:
        self.admin = api.as_(tenants.a.admin)
        self.other = api.as_(tenants.b.admin)
        self.relay, self.broker, self.worker = relay, broker, worker

    def deliver(self) -> None:
        self.relay.publish_pending()
        drain(self.broker, self.worker)

    async def sync(self, world: World, invoice: int) -> dict[str, Any]:
        asked = await self.admin.data(
            SYNC,
            {
                "input": {
                    "programId": gid("Program", world.program),
                    "invoiceId": gid("Invoice", invoice),
                }
            },
        )
        assert asked["syncInvoices"]["errors"] == []
        self.deliver()
        return (await self.runs(world))[0]

    async def revert(self, run_id: str, client: GraphQLClient | None = None) -> dict[str, Any]:
        answer = await (client or self.admin).data(REVERT, {"input": {"runId": run_id}})
        result: dict[str, Any] = answer["revertInvoiceSyncRun"]
        self.deliver()
        return result

    async def runs(self, world: World) -> list[dict[str, Any]]:
        page = await self.admin.data(RUNS, {"p": gid("Program", world.program)})
        return [e["node"] for e in page["invoiceSyncRuns"]["edges"]]


@pytest.fixture
def flow(
    side_api: GraphQLClient,
    tenants: Tenants,
    relay: Relay,
    broker: dramatiq.Broker,
    side_worker: dramatiq.Worker,
) -> Flow:
    return Flow(side_api, tenants, relay, broker, side_worker)


def units(world: World, customer: int) -> dict[str, list[int]]:
    """Every day's units of the customer's two products, read back from the simulator."""
    return {sku: world.units_between(customer, sku, *HORIZON) for sku in ("E3", "E5")}


def written(world: World) -> tuple[int, int]:
    """What the PSA holds and was sent: its unit changes (Autotask's adjustments,
    ConnectWise's additions) and the writes to its contracts."""
    return len(world.adjustments()), len(world.writes())


def given_october_synced(world: World) -> tuple[int, int]:
    """A customer whose October (3 E3) is synced and whose November invoice is issued."""
    customer = world.customer()
    october = world.invoice(OCT, [Line(customer, "E3", 3, OCT, date(2026, 10, 31))])
    assert world.sync(october).status == "SUCCESS"
    november = world.invoice(
        NOV,
        [
            Line(customer, "E3", 5, NOV, date(2026, 11, 12)),
            Line(customer, "E3", 8, date(2026, 11, 13), date(2026, 11, 30)),
            Line(customer, "E5", 2, date(2026, 11, 4), date(2026, 11, 30)),
        ],
    )
    return customer, november


async def test_a_synced_invoice_reverted_through_the_api_leaves_every_day_as_before(
    world: World, flow: Flow
) -> None:
    customer, november = given_october_synced(world)
    before = units(world, customer)
    assert len(days(*HORIZON)) == len(before["E3"])

    synced = await flow.sync(world, november)
    assert (synced["status"], synced["adjustmentsApplied"]) == ("SUCCESS", 3), synced["message"]
    assert units(world, customer) != before

    answer = await flow.revert(synced["id"])
    assert answer == {
        "requested": True,
        "run": {"id": synced["id"], "status": "SUCCESS"},
        "errors": [],
    }

    assert units(world, customer) == before
    newest, reverted = (await flow.runs(world))[:2]
    assert (newest["trigger"], newest["status"], newest["adjustmentsApplied"]) == (
        "REVERT",
        "SUCCESS",
        3,
    )
    assert newest["reverts"] == {"id": synced["id"]}
    assert reverted["revertedBy"] == {"id": newest["id"], "trigger": "REVERT", "status": "SUCCESS"}

    # Asked again: refused at once, nothing more written.
    writes = written(world)
    again = await flow.revert(synced["id"])
    assert again["requested"] is False
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("input.runId", "ALREADY_USED")]
    assert "already reverted by run #" in again["errors"][0]["message"]
    # A revert cannot itself be reverted.
    undo = await flow.revert(newest["id"])
    assert [e["code"] for e in undo["errors"]] == ["NOT_ALLOWED"]
    assert written(world) == writes
    assert units(world, customer) == before


async def test_the_api_refuses_what_cannot_be_reverted(world: World, flow: Flow) -> None:
    customer, november = given_october_synced(world)
    first = await flow.sync(world, november)
    nothing = await flow.sync(world, november)
    assert nothing["adjustmentsApplied"] == 0
    world.side.edit_units(world.contracts[customer], world.service_id("E5"), 1, date(2026, 11, 20))
    correcting = await flow.sync(world, november)  # puts E5 back: lands on the same service
    assert correcting["adjustmentsApplied"] == 1
    writes = written(world)

    wrote_nothing = await flow.revert(nothing["id"])
    later = await flow.revert(first["id"])
    foreign = await flow.revert(first["id"], flow.other)
    unknown = await flow.revert(gid("InvoiceSyncRun", 999_999))

    assert [e["code"] for e in wrote_nothing["errors"]] == ["NOT_ALLOWED"]
    assert "changed nothing" in wrote_nothing["errors"][0]["message"]
    assert [e["code"] for e in later["errors"]] == ["CONFLICT"]
    number = base64.b64decode(correcting["id"]).decode().partition(":")[2]
    assert f"#{number}" in later["errors"][0]["message"]
    assert "first" in later["errors"][0]["message"]
    for refused in (foreign, unknown):
        assert refused["requested"] is False
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [
            ("input.runId", "NOT_FOUND")
        ]
    assert written(world) == writes
    assert [r["trigger"] for r in await flow.runs(world)].count("REVERT") == 0
