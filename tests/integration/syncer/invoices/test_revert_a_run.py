"""Reverting an invoice sync run against each PSA's simulator, Autotask and ConnectWise (S10, docs/psa-sync.md
"Reverting a run"): every day ends with the units it held before the run, the compensation
is written once whatever is redelivered or crashes, and the rule refuses clearly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_domain.sync import InvoiceSyncRevertRequested, SyncTrigger
from prism_psa.invoices.revert import refusal
from prism_syncer.inbox import Outcome, process_event
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.invoices.notices import Links
from prism_syncer.invoices.recovery import resume
from prism_syncer.invoices.sync import start_run
from prism_tables.sync.invoices import InvoiceSyncIntent, InvoiceSyncJob, InvoiceSyncRun
from tests.integration.syncer.invoices.support import NOV, Line, World, crash_once
from tests.support.sides import PsaSide

pytestmark = pytest.mark.integration

OCT = date(2026, 10, 1)
NOV_30 = date(2026, 11, 30)
HORIZON = (date(2026, 9, 20), date(2027, 1, 31))
HAND_EDITS = 1  # october_then_november's edit in the PSA (an adjustment, an addition too)
LATER = timedelta(minutes=10)  # past any lease a crashed worker held


@pytest.fixture
def world(database_url: str, sync_engine: Engine, psa_side: PsaSide) -> World:
    return World.create(sync_engine, psa_side, skus=("E3", "E5"))


def snapshot(world: World, customer: int) -> dict[str, list[int]]:
    return {sku: world.units_between(customer, sku, *HORIZON) for sku in ("E3", "E5")}


def revert_event(world: World, run_id: int) -> dict[str, object]:
    return (
        InvoiceSyncRevertRequested(
            aggregate_id=f"{world.partner}:{world.program}",
            partner_id=world.partner,
            program_id=world.program,
            run_id=run_id,
        )
        .envelope()
        .to_dict()
    )


def start_revert(world: World, run_id: int) -> int:
    with Session(world.engine) as session, session.begin():
        return start_run(
            session,
            partner_id=world.partner,
            program_id=world.program,
            trigger=SyncTrigger.REVERT.value,
            invoice_id=world.run(run_id).invoice_id,
            reverts_run_id=run_id,
        ).id


def revert_runs(world: World) -> list[InvoiceSyncRun]:
    with Session(world.engine) as session:
        runs = session.scalars(
            select(InvoiceSyncRun).where(InvoiceSyncRun.trigger == SyncTrigger.REVERT.value)
        ).all()
        session.expunge_all()
        return list(runs)


def landed(world: World) -> int:
    with Session(world.engine) as session:
        return int(
            session.scalar(
                select(func.count(InvoiceSyncIntent.id)).where(
                    InvoiceSyncIntent.status.in_(["APPLIED", "CONFIRMED"])
                )
            )
            or 0
        )


def landed_of(world: World, run_id: int) -> list[tuple[date, int, str, str]]:
    with Session(world.engine) as session:
        rows = session.execute(
            select(
                InvoiceSyncIntent.effective_date,
                InvoiceSyncIntent.unit_change,
                InvoiceSyncIntent.unit_price,
                InvoiceSyncIntent.unit_cost,
            )
            .join(InvoiceSyncJob, InvoiceSyncJob.id == InvoiceSyncIntent.job_id)
            .where(InvoiceSyncJob.run_id == run_id, InvoiceSyncIntent.status == "APPLIED")
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def landed_by(world: World, run_id: int) -> int:
    """The run's intents that reached the PSA (applied, or confirmed by a re-read)."""
    with Session(world.engine) as session:
        return int(
            session.scalar(
                select(func.count(InvoiceSyncIntent.id))
                .join(InvoiceSyncJob, InvoiceSyncJob.id == InvoiceSyncIntent.job_id)
                .where(
                    InvoiceSyncJob.run_id == run_id,
                    InvoiceSyncIntent.status.in_(["APPLIED", "CONFIRMED"]),
                )
            )
            or 0
        )


def october_then_november(world: World) -> tuple[int, int]:
    """A customer synced for October (3 E3), edited by hand in the PSA, then November's
    invoice (5 then 9 E3, and 2 E5 new) synced: (customer, November's run)."""
    customer = world.customer()
    october = world.invoice(OCT, [Line(customer, "E3", 3, OCT, date(2026, 10, 31))])
    assert world.sync(october).status == "SUCCESS"
    world.side.edit_units(world.contracts[customer], world.service_id("E3"), 1, date(2026, 10, 20))
    november = world.invoice(
        NOV,
        [
            Line(customer, "E3", 5, NOV, date(2026, 11, 9), price="40.00", cost="30.00"),
            Line(customer, "E3", 9, date(2026, 11, 10), NOV_30, price="40.00", cost="30.00"),
            Line(customer, "E5", 2, NOV, NOV_30),
        ],
    )
    return customer, november


def test_a_revert_puts_every_day_back_to_its_units_before_the_run(world: World) -> None:
    customer, november = october_then_november(world)
    before = snapshot(world, customer)
    run = world.sync(november)
    assert (
        run.status in ("SUCCESS", "WARNING") and run.adjustments_applied >= 3
    )  # hand edit: WARNING
    assert snapshot(world, customer) != before

    handlers = invoice_handlers(world.side.config(), Links())
    assert process_event(world.engine, revert_event(world, run.id), handlers) == Outcome.HANDLED

    assert snapshot(world, customer) == before
    (revert,) = revert_runs(world)
    assert (revert.status, revert.reverts_run_id, revert.invoice_id) == (
        "SUCCESS",
        run.id,
        november,
    )
    assert revert.adjustments_applied == run.adjustments_applied
    # Each compensation undoes one of the run's adjustments, on its day, at its price and cost.
    undone = [(day, -change, price, cost) for day, change, price, cost in landed_of(world, run.id)]
    assert sorted(landed_of(world, revert.id)) == sorted(undone)
    # Its record: per customer and service, checked against the units before the run.
    items = world.items(revert.id)
    assert {i.outcome for i in items} == {"SUCCESS"}
    assert any("before run #" in (i.message or "") for i in items)


def test_the_revert_request_delivered_twice_or_asked_twice_reverts_once(world: World) -> None:
    customer, november = october_then_november(world)
    before = snapshot(world, customer)
    run = world.sync(november)
    handlers = invoice_handlers(world.side.config(), Links())
    event = revert_event(world, run.id)

    first = process_event(world.engine, event, handlers)
    written = len(world.adjustments())
    second = process_event(world.engine, event, handlers)
    other = process_event(world.engine, revert_event(world, run.id), handlers)  # a new request

    assert (first, second, other) == (Outcome.HANDLED, Outcome.DUPLICATE, Outcome.HANDLED)
    assert len(revert_runs(world)) == 1
    assert len(world.adjustments()) == written
    assert snapshot(world, customer) == before


@pytest.mark.parametrize("point", ["before_write", "after_write", "lost_answer"])
def test_a_worker_crashing_mid_revert_is_resumed_without_a_double(world: World, point: str) -> None:
    customer, november = october_then_november(world)
    before = snapshot(world, customer)
    run = world.sync(november)
    revert_id = start_revert(world, run.id)

    crash_once(world, revert_id, point)
    resume(world.engine, world.syncer(clock=lambda: datetime.now(UTC) + LATER))

    assert world.run(revert_id).status == "SUCCESS", world.run(revert_id).message
    assert snapshot(world, customer) == before
    # One compensation landed per change of the run, none twice (a doubled write would show
    # in the units above, or as a compensation more).
    assert landed_by(world, revert_id) == landed_by(world, run.id) == run.adjustments_applied
    held = len(world.adjustments())
    if world.side.exact_writes:
        # Autotask: every adjustment it holds is one landed intent.
        assert held == landed(world) + HAND_EDITS
    # (ConnectWise writes a decrease as cancel-and-add-back: the additions it holds are not
    # one per intent, so there the count checked is the intents' above.)
    # Driving it again writes nothing.
    writes = world.side.writes(world.contracts[customer])
    assert world.syncer().drive(revert_id) == "SUCCESS"
    assert len(world.adjustments()) == held
    assert world.side.writes(world.contracts[customer]) == writes


def test_a_run_a_later_run_changed_the_same_services_after_is_refused(world: World) -> None:
    customer, november = october_then_november(world)
    run = world.sync(november)
    world.side.edit_units(world.contracts[customer], world.service_id("E3"), 2, date(2026, 11, 15))
    later = world.sync(november)  # corrects the hand edit: lands on E3 again
    assert later.adjustments_applied == 1

    revert_id = start_revert(world, run.id)
    writes = len(world.adjustments())
    assert world.syncer().drive(revert_id) == "FAILURE"
    message = world.run(revert_id).message or ""
    assert f"#{later.id}" in message and "first" in message
    assert len(world.adjustments()) == writes
    with Session(world.engine) as session:
        assert (
            session.scalar(select(InvoiceSyncJob.id).where(InvoiceSyncJob.run_id == revert_id))
            is None
        )

    # The later one can be reverted.
    assert world.syncer().drive(start_revert(world, later.id)) == "SUCCESS"


def test_refusals_already_reverted_wrote_nothing_and_a_revert_itself(world: World) -> None:
    _, november = october_then_november(world)
    run = world.sync(november)
    nothing = world.sync(november)
    assert nothing.adjustments_applied == 0  # (a WARNING: October's hand edit)

    first = start_revert(world, run.id)
    assert world.syncer().drive(first) == "SUCCESS"

    refused = {}
    for target in (nothing.id, first):
        revert_id = start_revert(world, target)
        assert world.syncer().drive(revert_id) == "FAILURE"
        refused[target] = world.run(revert_id).message
    assert refused[nothing.id] == (
        f"Run #{nothing.id} changed nothing in {world.side.kind.label}: there is nothing to revert."
    )
    assert "itself a revert" in (refused[first] or "")
    # The API's check, the same rule: already reverted, and another partner's run unknown.
    with Session(world.engine) as session:
        again = refusal(session, world.partner, run.id)
        foreign = refusal(session, world.partner + 1000, run.id)
    assert again is not None and (again.code, again.message) == (
        "ALREADY_USED",
        f"Run #{run.id} was already reverted by run #{first}.",
    )
    assert foreign is not None and foreign.code == "NOT_FOUND"


def test_a_revert_refused_while_sync_is_off_is_planned_again_when_asked_again(
    world: World,
) -> None:
    customer, november = october_then_november(world)
    before = snapshot(world, customer)
    run = world.sync(november)
    after = snapshot(world, customer)
    world.map_customer(customer, sync_enabled=False)  # S9: Prism writes nothing for it
    handlers = invoice_handlers(world.side.config(), Links())

    process_event(world.engine, revert_event(world, run.id), handlers)
    (refused,) = revert_runs(world)
    assert refused.status == "FAILURE"
    assert "Sync is off" in (refused.message or "")
    assert snapshot(world, customer) == after

    # Failed without writing anything: it does not count as the revert. Asked again once
    # sync is on, the same revert run is planned again and puts every day back.
    world.map_customer(customer, sync_enabled=True)
    with Session(world.engine) as session:
        assert refusal(session, world.partner, run.id) is None
    process_event(world.engine, revert_event(world, run.id), handlers)
    (again,) = revert_runs(world)
    assert (again.id, again.status, again.message) == (refused.id, "SUCCESS", None)
    assert snapshot(world, customer) == before
