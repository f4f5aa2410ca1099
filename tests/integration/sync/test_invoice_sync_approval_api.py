"""The approval gate (S5, S7, S10) through the GraphQL API, against each PSA's simulator:
with approval required, an issued invoice's run writes nothing and waits with its planned
changes; approving writes exactly what the preview and the run showed; dismissing writes
nothing and says so in the history; a plan gone stale (the PSA edited by hand, a newer
invoice) is planned and shown again, never written unseen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.invoicing import InvoiceIssued
from prism_syncer.inbox import process_event
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.invoices.notices import Links
from prism_syncer.invoices.recovery import resume
from prism_tables.outbox import OutboxEvent
from prism_tables.sync.invoices import InvoiceSyncRun
from tests.integration.sync.test_invoice_sync_preview_api import (
    PREVIEW,
    partner_a_world,
    shown,
    written,
)
from tests.integration.syncer.invoices.support import NOV, Line, World, crash_once, month_end
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid
from tests.support.sides import AutotaskSide, PsaSide

pytestmark = pytest.mark.integration

DEC = date(2026, 12, 1)
RUN = """query($id: ID!) { invoiceSyncRun(id: $id) { status requiresApproval adjustmentsApplied
  approval { customerId customerName state decidedBy shownAgain amount adjustmentCount
    services { sku amount adjustments { effectiveDate unitChange unitPrice unitCost amount } } }
  customers { customerId outcome code message } } }"""
APPROVE = """mutation($input: InvoiceSyncDecisionInput!) { approveInvoiceSync(input: $input) {
  customers run { id status } errors { field code message } } }"""
DISMISS = """mutation($input: InvoiceSyncDecisionInput!) { dismissInvoiceSync(input: $input) {
  customers run { id status } errors { field code message } } }"""


def deliver(world: World, *types: str) -> None:
    """Hand the outbox's events of `types` to the syncer, as the relay and broker would."""
    handlers = invoice_handlers(world.side.config(), Links())
    with Session(world.engine) as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.type.in_(types)).order_by(OutboxEvent.id)
        ).all()
        envelopes = [r.envelope() for r in rows]
    for envelope in envelopes:
        process_event(world.engine, envelope, handlers)


def issue(world: World, invoice: int) -> int:
    """The invoice's `invoice.issued`, handled by the syncer; the run it recorded."""
    event = InvoiceIssued(
        aggregate_id=str(invoice),
        invoice_id=invoice,
        partner_id=world.partner,
        program_id=world.program,
        currency="AUD",
        period_start=NOV.isoformat(),
        period_end=month_end(NOV).isoformat(),
        total="0",
        lines=(),
    )
    process_event(
        world.engine,
        event.envelope().to_dict(),
        invoice_handlers(world.side.config(), Links()),
    )
    with Session(world.engine) as session:
        run_id = session.scalar(
            select(InvoiceSyncRun.id).where(InvoiceSyncRun.invoice_id == invoice)
        )
    assert run_id is not None
    return int(run_id)


def eight_then_six(side: PsaSide) -> list[tuple[str, ...]]:
    """What the PSA holds, read by `written`, for 8 units from November 1st and 6 from the
    16th, approved as shown (+8, then -2). Autotask: the two adjustments as shown.
    ConnectWise keeps no negative addition: the 8 are cancelled on the 16th and the 6 that
    remain added back from it."""
    if isinstance(side, AutotaskSide):
        return [("2026-11-01", 8, "36.00", "32.40"), ("2026-11-16", -2, "36.00", "32.40")]
    return [
        ("2026-11-01", "2026-11-16", "8", "36.00", "32.40"),
        ("2026-11-16", "", "6", "36.00", "32.40"),
    ]


def gated_world(engine: Engine, side: PsaSide, tenants: Tenants) -> World:
    world = partner_a_world(engine, side, tenants)
    world.settings(require_approval=True)
    return world


async def run_of(api: GraphQLClient, tenants: Tenants, run_id: int) -> dict[str, Any]:
    data = await api.as_(tenants.a.admin).data(RUN, {"id": gid("InvoiceSyncRun", run_id)})
    run = data["invoiceSyncRun"]
    assert isinstance(run, dict)
    return run


async def test_an_approved_run_writes_exactly_what_the_preview_showed(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = gated_world(sync_engine, psa_side, tenants)
    customer, other = world.customer(), world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(customer, "E3", 8, NOV, date(2026, 11, 15)),
            Line(customer, "E3", 6, date(2026, 11, 16), month_end(NOV)),
            Line(other, "E3", 2, NOV, month_end(NOV)),
        ],
    )
    admin = side_api.as_(tenants.a.admin)
    preview = (
        await admin.data(
            PREVIEW, {"p": gid("Program", world.program), "i": gid("Invoice", invoice)}
        )
    )["invoiceSyncPreview"]["preview"]

    run_id = issue(world, invoice)

    assert world.writes() == []  # nothing before a decision
    run = await run_of(side_api, tenants, run_id)
    assert (run["status"], run["requiresApproval"]) == ("AWAITING_APPROVAL", True)
    assert [c["state"] for c in run["approval"]] == ["WAITING", "WAITING"]
    held = {c["customerId"]: c for c in run["approval"]}
    assert held[gid("Customer", customer)]["amount"] == "252.00"  # 8 x 36 - 2 x 36 x 15/30
    assert shown({"customers": run["approval"]}) == shown(preview)
    with Session(sync_engine) as session:
        waiting = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.type == "invoice_sync.awaiting_approval")
        ).all()
    assert [(p["run_id"], p["customers"]) for p in waiting] == [(run_id, 2)]

    result = (await admin.data(APPROVE, {"input": {"runId": gid("InvoiceSyncRun", run_id)}}))[
        "approveInvoiceSync"
    ]
    assert (result["errors"], result["customers"]) == ([], 2)
    deliver(world, "invoice_sync.decided")

    run = await run_of(side_api, tenants, run_id)
    assert run["status"] == "SUCCESS"
    if isinstance(world.side, AutotaskSide):
        assert sorted(written(world)) == shown(preview)  # adjustment for adjustment
    # and, on either PSA, the changes shown and nothing else (the other customer's +2)
    other_two = (
        ("2026-11-01", 2, "36.00", "32.40")
        if isinstance(world.side, AutotaskSide)
        else ("2026-11-01", "", "2", "36.00", "32.40")
    )
    assert written(world) == sorted([*eight_then_six(world.side), other_two])
    assert [c["state"] for c in run["approval"]] == ["APPROVED", "APPROVED"]
    assert {c["decidedBy"] for c in run["approval"]} != {None}
    assert world.month_units(customer, "E3", NOV) == [8] * 15 + [6] * 15

    # deciding again: nothing waits any more
    again = (await admin.data(APPROVE, {"input": {"runId": gid("InvoiceSyncRun", run_id)}}))[
        "approveInvoiceSync"
    ]
    assert [e["code"] for e in again["errors"]] == ["NOT_ALLOWED"]


async def test_a_dismissed_customer_gets_nothing_written_and_the_history_says_so(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = gated_world(sync_engine, psa_side, tenants)
    kept, dismissed = world.customer(), world.customer()
    invoice = world.invoice(
        NOV,
        [Line(kept, "E3", 3, NOV, month_end(NOV)), Line(dismissed, "E3", 4, NOV, month_end(NOV))],
    )
    run_id = issue(world, invoice)
    admin = side_api.as_(tenants.a.admin)
    run = gid("InvoiceSyncRun", run_id)

    result = (
        await admin.data(
            DISMISS, {"input": {"runId": run, "customerIds": [gid("Customer", dismissed)]}}
        )
    )["dismissInvoiceSync"]
    assert (result["errors"], result["customers"]) == ([], 1)
    deliver(world, "invoice_sync.decided")

    assert world.writes() == []  # the other customer still waits
    assert (await run_of(side_api, tenants, run_id))["status"] == "AWAITING_APPROVAL"
    result = (await admin.data(APPROVE, {"input": {"runId": run}}))["approveInvoiceSync"]
    assert result["customers"] == 1  # only the customer still waiting
    deliver(world, "invoice_sync.decided")

    shown_run = await run_of(side_api, tenants, run_id)
    assert shown_run["status"] == "SUCCESS"
    assert world.month_units(kept, "E3", NOV) == [3] * 30
    assert world.contract_service(dismissed, "E3") is None  # nothing written for it
    states = {c["customerId"]: c["state"] for c in shown_run["approval"]}
    assert states == {gid("Customer", kept): "APPROVED", gid("Customer", dismissed): "DISMISSED"}
    results = {c["customerId"]: c for c in shown_run["customers"]}
    assert results[gid("Customer", dismissed)]["outcome"] == "SKIPPED"
    assert results[gid("Customer", dismissed)]["code"] == "DISMISSED"
    assert "Dismissed by" in results[gid("Customer", dismissed)]["message"]


async def test_a_plan_gone_stale_is_shown_again_and_never_written_unseen(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = gated_world(sync_engine, psa_side, tenants)
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 5, NOV, month_end(NOV))])
    run_id = issue(world, invoice)
    admin = side_api.as_(tenants.a.admin)
    run = gid("InvoiceSyncRun", run_id)
    first = (await run_of(side_api, tenants, run_id))["approval"][0]
    assert first["amount"] == "180.00"

    # Someone adds 2 units by hand in the PSA before the approval.
    world.side.edit_units(world.contracts[customer], world.service_id("E3"), 2, NOV)

    await admin.data(APPROVE, {"input": {"runId": run}})
    deliver(world, "invoice_sync.decided")

    stale = await run_of(side_api, tenants, run_id)
    assert stale["status"] == "AWAITING_APPROVAL"
    (again,) = stale["approval"]
    assert (again["state"], again["shownAgain"]) == ("WAITING", True)
    assert [a["unitChange"] for s in again["services"] for a in s["adjustments"]] == [3]
    assert world.month_units(customer, "E3", NOV) == [2] * 30  # nothing written by Prism
    with Session(sync_engine) as session:
        notices = session.scalars(
            select(OutboxEvent.id).where(OutboxEvent.type == "invoice_sync.awaiting_approval")
        ).all()
    assert len(notices) == 2  # shown, then shown again

    await admin.data(APPROVE, {"input": {"runId": run}})
    deliver(world, "invoice_sync.decided")

    assert (await run_of(side_api, tenants, run_id))["status"] == "SUCCESS"
    assert world.month_units(customer, "E3", NOV) == [5] * 30


async def test_a_newer_invoice_makes_an_approved_plan_plan_again(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = gated_world(sync_engine, psa_side, tenants)
    customer = world.customer()
    november = world.invoice(NOV, [Line(customer, "E3", 5, NOV, month_end(NOV))])
    run_id = issue(world, november)
    # December is issued (and waits in its own run) before November's is approved: 7 from
    # December on, which November's plan (5, carried on) no longer agrees with.
    world.invoice(DEC, [Line(customer, "E3", 7, DEC, month_end(DEC))])
    admin = side_api.as_(tenants.a.admin)

    await admin.data(APPROVE, {"input": {"runId": gid("InvoiceSyncRun", run_id)}})
    deliver(world, "invoice_sync.decided")

    stale = await run_of(side_api, tenants, run_id)
    assert stale["status"] == "AWAITING_APPROVAL"
    assert stale["approval"][0]["shownAgain"] is True
    changes = [
        (a["effectiveDate"], a["unitChange"])
        for s in stale["approval"][0]["services"]
        for a in s["adjustments"]
    ]
    assert changes == [("2026-11-01", 5), ("2026-12-01", 2)]
    assert world.writes() == []

    await admin.data(APPROVE, {"input": {"runId": gid("InvoiceSyncRun", run_id)}})
    deliver(world, "invoice_sync.decided")

    assert (await run_of(side_api, tenants, run_id))["status"] == "SUCCESS"
    assert world.month_units(customer, "E3", NOV) == [5] * 30
    assert world.month_units(customer, "E3", DEC) == [7] * 31


async def test_decisions_that_cannot_be_taken_say_why_and_change_nothing(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = gated_world(sync_engine, psa_side, tenants)
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 5, NOV, month_end(NOV))])
    run_id = issue(world, invoice)
    run = gid("InvoiceSyncRun", run_id)

    async def errors(token: str, mutation: str, **input: Any) -> list[tuple[str, str]]:
        data = await side_api.as_(token).data(mutation, {"input": {"runId": run, **input}})
        payload = next(iter(data.values()))
        return [(e["field"], e["code"]) for e in payload["errors"]]

    admin = tenants.a.admin
    assert await errors(tenants.b.admin, APPROVE) == [("input.runId", "NOT_FOUND")]
    assert await errors(admin, APPROVE, customerIds=[]) == [("input.customerIds", "REQUIRED")]
    assert await errors(admin, DISMISS, customerIds=[gid("Customer", 999999)]) == [
        ("input.customerIds", "NOT_FOUND")
    ]
    assert (await run_of(side_api, tenants, run_id))["approval"][0]["state"] == "WAITING"

    world.settings(require_approval=False)
    plain = world.invoice(DEC, [Line(customer, "E3", 6, DEC, month_end(DEC))])
    plain_run = issue(world, plain)  # approval off: written at once
    assert (await run_of(side_api, tenants, plain_run))["status"] == "SUCCESS"
    data = await side_api.as_(admin).data(
        APPROVE, {"input": {"runId": gid("InvoiceSyncRun", plain_run)}}
    )
    assert [e["code"] for e in data["approveInvoiceSync"]["errors"]] == ["NOT_ALLOWED"]


@pytest.mark.parametrize("crash", ["before_write", "after_write", "lost_answer"])
async def test_an_approved_run_that_crashes_while_writing_writes_each_change_once(
    side_api: GraphQLClient,
    tenants: Tenants,
    sync_engine: Engine,
    psa_side: PsaSide,
    crash: str,
) -> None:
    world = gated_world(sync_engine, psa_side, tenants)
    customer = world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(customer, "E3", 8, NOV, date(2026, 11, 15)),
            Line(customer, "E3", 6, date(2026, 11, 16), month_end(NOV)),
        ],
    )
    run_id = issue(world, invoice)
    planned = shown({"customers": (await run_of(side_api, tenants, run_id))["approval"]})
    await side_api.as_(tenants.a.admin).data(
        APPROVE, {"input": {"runId": gid("InvoiceSyncRun", run_id)}}
    )

    crash_once(world, run_id, crash)  # the worker dies mid-write (or an answer is lost)
    later = world.syncer(clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    resume(world.engine, later)  # the safety check's resume, once the lease has run out
    deliver(world, "invoice_sync.decided")  # and the decision's event, delivered late

    assert (await run_of(side_api, tenants, run_id))["status"] == "SUCCESS"
    # the plan approved: +8 from the 1st, -2 from the 16th
    assert planned == [("2026-11-01", 8, "36.00", "32.40"), ("2026-11-16", -2, "36.00", "32.40")]
    # each approved change once, nothing else
    assert written(world) == eight_then_six(world.side)
    assert world.month_units(customer, "E3", NOV) == [8] * 15 + [6] * 15
