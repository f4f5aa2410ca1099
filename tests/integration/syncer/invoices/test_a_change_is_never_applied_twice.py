"""S10 on each PSA (Autotask, ConnectWise): a retried, duplicated or interrupted sync never
applies a change twice, and the PSA's units always end equal to the invoices."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.invoicing import InvoiceIssued
from prism_domain.sync import InvoiceSyncRequested, SyncTrigger
from prism_platform.db import make_sync_engine
from prism_psa.port import NewAdjustment
from prism_syncer.inbox import Outcome, process_event
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.invoices.notices import Links
from prism_syncer.invoices.recovery import safety_check
from prism_syncer.invoices.sync import Hooks
from prism_tables.sync.invoices import InvoiceSyncIntent, InvoiceSyncJob, InvoiceSyncRun
from tests.integration.syncer.invoices.support import NOV, Line, PsaSide, World, expected

pytestmark = pytest.mark.integration

NOV_30 = date(2026, 11, 30)
LATER = timedelta(minutes=10)  # past any lease a crashed worker held


class Crash(Exception):
    """The worker dies here (nothing after this point of its work happens)."""


def crash_once() -> Any:
    fired = []

    def hook(_: NewAdjustment) -> None:
        if not fired:
            fired.append(True)
            raise Crash

    return hook


@pytest.fixture
def world(database_url: str, sync_engine: Engine, side: PsaSide) -> World:
    """Each PSA in turn (this folder's `side`)."""
    return World.create(sync_engine, side, skus=("E3", "E5"))


def two_customer_invoice(world: World) -> tuple[int, int, int]:
    a, b = world.customer(), world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(a, "E3", 5, NOV, date(2026, 11, 9)),
            Line(a, "E3", 9, date(2026, 11, 10), NOV_30),
            Line(a, "E5", 2, NOV, NOV_30),
            Line(b, "E3", 4, NOV, NOV_30),
        ],
    )
    return a, b, invoice


def assert_invoice_state(world: World, a: int, b: int) -> None:
    assert world.month_units(a, "E3", NOV) == expected([(0, 5), (9, 9)])
    assert world.month_units(a, "E5", NOV) == expected([(0, 2)])
    assert world.month_units(b, "E3", NOV) == expected([(0, 4)])


def assert_each_change_written_once(world: World, a: int, b: int) -> None:
    """The invoice's four changes (no decrease among them), each written once on any PSA."""
    assert len(world.adjustments()) == 4
    writes = sum(world.side.writes(world.contracts[c]) for c in {a, b})
    assert writes == 4


def resume_later(world: World, run_id: int) -> str | None:
    later = world.syncer(clock=lambda: datetime.now(UTC) + LATER)
    return later.drive(run_id)


@pytest.mark.parametrize("point", ["before_intent", "before_write", "after_write"])
def test_a_worker_killed_before_during_or_after_a_write_is_resumed_without_a_double(
    world: World, point: str
) -> None:
    a, b, invoice = two_customer_invoice(world)
    run_id = world.start(invoice)

    with pytest.raises(Crash):
        world.syncer(hooks=Hooks(**{point: crash_once()})).drive(run_id)
    assert world.run(run_id).status == "RUNNING"

    # A live worker's lease is respected: resuming now takes nothing over.
    world.syncer().drive(run_id)
    assert world.run(run_id).status == "RUNNING"

    status = resume_later(world, run_id)

    assert status == "SUCCESS"
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)
    with Session(world.engine) as session:
        intents = session.scalars(select(InvoiceSyncIntent.status)).all()
    expected_uncertain = {"before_intent": 0, "before_write": 1, "after_write": 1}[point]
    assert sum(s in ("NOT_APPLIED", "CONFIRMED") for s in intents) == expected_uncertain
    if point == "after_write":
        assert "CONFIRMED" in intents  # the write happened: re-reading found it
    if point == "before_write":
        assert "NOT_APPLIED" in intents  # it never reached Autotask: written again once
    assert world.run(run_id).adjustments_applied == 4


def test_an_answer_lost_after_the_psa_committed_is_read_back_not_repeated(
    world: World,
) -> None:
    a, b, invoice = two_customer_invoice(world)
    world.side.lose_next_write_answer()
    world.side.lose_next_write_answer()

    run = world.sync(invoice)

    assert run.status == "SUCCESS"
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)
    with Session(world.engine) as session:
        statuses = sorted(session.scalars(select(InvoiceSyncIntent.status)).all())
    assert statuses.count("CONFIRMED") == 2 and statuses.count("APPLIED") == 2


def test_an_answer_lost_before_the_psa_did_anything_is_written_once_more(
    world: World,
) -> None:
    a, b, invoice = two_customer_invoice(world)
    world.side.fail_next_write_before_commit()

    run = world.sync(invoice)

    assert run.status == "SUCCESS"
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)
    with Session(world.engine) as session:
        statuses = session.scalars(select(InvoiceSyncIntent.status)).all()
    assert "NOT_APPLIED" in statuses  # it never reached the PSA: written again, once


def test_the_psa_unreachable_leaves_the_run_to_resume_later(world: World) -> None:
    a, b, invoice = two_customer_invoice(world)
    world.side.go_down()
    run_id = world.start(invoice)
    world.syncer().drive(run_id)
    assert world.run(run_id).status == "RUNNING"
    assert world.adjustments() == []

    world.side.come_back()
    assert world.syncer().drive(run_id) == "SUCCESS"
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)


def test_the_same_event_delivered_twice_syncs_once(world: World) -> None:
    a, b, invoice = two_customer_invoice(world)
    event = InvoiceIssued(
        aggregate_id=str(invoice),
        invoice_id=invoice,
        partner_id=world.partner,
        program_id=world.program,
        currency="AUD",
        period_start=NOV.isoformat(),
        period_end=NOV_30.isoformat(),
        total="0",
        lines=(),
    ).envelope()
    handlers = invoice_handlers(world.side.config(), Links())

    first = process_event(world.engine, event.to_dict(), handlers)
    second = process_event(world.engine, event.to_dict(), handlers)

    assert (first, second) == (Outcome.HANDLED, Outcome.DUPLICATE)
    with Session(world.engine) as session:
        runs = session.scalars(select(InvoiceSyncRun)).all()
    assert [r.status for r in runs] == ["SUCCESS"]
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)


def test_a_manual_request_and_the_safety_check_after_it_change_nothing(world: World) -> None:
    a, b, _ = two_customer_invoice(world)
    handlers = invoice_handlers(world.side.config(), Links())
    request = InvoiceSyncRequested(
        aggregate_id=str(world.program),
        partner_id=world.partner,
        program_id=world.program,
        trigger=SyncTrigger.SAVE_AND_SYNC.value,
        customer_id=a,
    ).envelope()

    process_event(world.engine, request.to_dict(), handlers)
    assert world.month_units(a, "E3", NOV) == expected([(0, 5), (9, 9)])
    assert world.month_units(b, "E3", NOV) == [0] * 30  # one customer only

    # The safety check finds the invoice no whole-invoice run took up, and syncs the rest.
    safety_check(world.engine, world.syncer(), today=NOV_30)
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)
    with Session(world.engine) as session:
        triggers = session.scalars(select(InvoiceSyncRun.trigger).order_by(InvoiceSyncRun.id)).all()
    assert triggers == ["SAVE_AND_SYNC", "SAFETY_CHECK"]


def test_two_workers_on_the_same_runs_at_once_write_each_change_once(
    world: World, database_url: str
) -> None:
    a, b, invoice = two_customer_invoice(world)
    runs = [world.start(invoice), world.start(invoice)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(run_id: int) -> None:
        engine = make_sync_engine(database_url)  # its own pool, as another process would
        try:
            world_engine = World(engine, world.autotask, psa=world.psa)
            sync = world_engine.syncer()
            start.wait(timeout=10)
            sync.drive(run_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(r,)) for r in runs + runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    for run_id in runs:  # whatever interleaving, every run ends recorded
        world.syncer().drive(run_id)
    statuses = sorted(world.run(r).status for r in runs)
    assert statuses in (["NO_CHANGE", "SUCCESS"], ["SUCCESS", "SUCCESS"])
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)
    with Session(world.engine) as session:
        jobs = session.scalars(select(InvoiceSyncJob)).all()
    assert all(j.status == "DONE" for j in jobs)


def test_a_worker_whose_lease_expired_writes_nothing_after_another_took_over(
    world: World,
) -> None:
    a, b, invoice = two_customer_invoice(world)
    run_id = world.start(invoice)
    took_over: list[str | None] = []

    def stall(_: NewAdjustment) -> None:
        # The first worker stalls past its lease; another finishes the whole run meanwhile.
        if not took_over:
            took_over.append(resume_later(world, run_id))

    world.syncer(hooks=Hooks(before_intent=stall)).drive(run_id)

    assert took_over == ["SUCCESS"]
    assert world.run(run_id).status == "SUCCESS"
    assert_invoice_state(world, a, b)
    assert_each_change_written_once(world, a, b)
