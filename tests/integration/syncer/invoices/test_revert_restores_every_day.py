"""Reverting a run restores every day (S10, S11), property-tested with the desired-timeline
model (test_desired_timeline_stateful): whatever Autotask held before (earlier invoices
synced, hand edits in Autotask), a random invoice synced and then reverted, perhaps with a
worker crashing once or Autotask's answer lost, leaves every day of the horizon with the
units it held just before that run, and nothing written twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_domain.sync import SyncTrigger
from prism_syncer.invoices.sync import start_run
from prism_tables.sync.invoices import InvoiceSyncIntent
from tests.integration.syncer.invoices.support import (
    CRASH_POINTS,
    Line,
    PsaSide,
    World,
    crash_once,
)
from tests.integration.syncer.invoices.test_desired_timeline_stateful import (
    FIRST,
    LAST,
    MONTHS,
    SKUS,
    _segments,
)
from tests.support.backends import examples
from tests.support.psa import days, month_of

pytestmark = pytest.mark.integration

HORIZON = (FIRST, LAST + timedelta(days=31))
LATER = timedelta(minutes=10)  # past any lease a crashed worker held

# A month's quantity of one product: from its first day, and from a day on (a change).
quantities = st.tuples(st.integers(0, 6), st.integers(0, 27), st.integers(0, 6))
invoice = st.tuples(st.integers(0, len(MONTHS) - 1), quantities, quantities)
edit = st.tuples(
    st.sampled_from(SKUS), st.integers(0, (LAST - FIRST).days), st.integers(-3, 4).filter(bool)
)
prior = st.lists(st.one_of(invoice, edit), max_size=4)


def test_a_reverted_run_leaves_every_day_as_it_was_before_it(
    database_url: str, sync_engine: Engine, side: PsaSide
) -> None:
    @settings(
        max_examples=examples(8),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(before=prior, synced=invoice, crash=st.sampled_from(CRASH_POINTS))
    def example(
        before: list[tuple[object, ...]],
        synced: tuple[int, tuple[int, int, int], tuple[int, int, int]],
        crash: str | None,
    ) -> None:
        world = World.create(sync_engine, side, skus=SKUS)  # a partner of its own
        world.side.clear_log()
        customer = world.customer()
        invoices: dict[int, int] = {}  # month -> invoice

        def bill_and_sync(month: int, *per_sku: tuple[int, int, int]) -> int:
            if month not in invoices:
                start, end = month_of(MONTHS[month])
                lines = []
                for sku, (units, day, then) in zip(SKUS, per_sku, strict=True):
                    change = start + timedelta(days=day)
                    billed = {d: units if d < change else then for d in days(start, end)}
                    lines += [
                        Line(customer, sku, n, first, last)
                        for first, last, n in _segments(billed)
                        if n
                    ]
                invoices[month] = world.invoice(start, lines)
            return world.sync(invoices[month]).id

        for step in before:
            if isinstance(step[0], int):
                bill_and_sync(*step)  # type: ignore[arg-type]
            else:
                sku, day, change = step
                # a person's edit in the PSA; units below zero are refused
                world.side.edit_units(
                    world.contracts[customer],
                    world.service_id(str(sku)),
                    int(change),  # type: ignore[call-overload]
                    FIRST + timedelta(days=int(day)),  # type: ignore[call-overload]
                )
        snapshot = psa_units(world, customer)
        run_id = bill_and_sync(*synced)
        landed_by_run = world.run(run_id).adjustments_applied

        with Session(world.engine) as session, session.begin():
            revert_id = start_run(
                session,
                partner_id=world.partner,
                program_id=world.program,
                trigger=SyncTrigger.REVERT.value,
                invoice_id=world.run(run_id).invoice_id,
                reverts_run_id=run_id,
            ).id
        if crash is not None and landed_by_run:
            crash_once(world, revert_id, crash)
        world.syncer(clock=lambda: datetime.now(UTC) + LATER).drive(revert_id)
        revert = world.run(revert_id)

        if not landed_by_run:
            assert (revert.status, revert.adjustments_applied) == ("FAILURE", 0)
            assert "changed nothing" in (revert.message or "")
        else:
            assert revert.status == "SUCCESS", (revert.status, revert.message)
        assert psa_units(world, customer) == snapshot
        # Every adjustment Prism sent landed as one intent: nothing was written twice (on
        # ConnectWise, where one change may be several writes: none without its intent).
        posts, landed = adjustment_posts(world, customer), landed_intents(world, customer)
        if world.side.exact_writes:
            assert posts == landed
        else:
            assert landed <= posts and (landed == 0) == (posts == 0)

    example()


def psa_units(world: World, customer: int) -> dict[str, list[int]]:
    """The units the PSA bills on each day of the horizon, per SKU."""
    return {sku: [world.units_on(customer, sku, day) for day in days(*HORIZON)] for sku in SKUS}


def adjustment_posts(world: World, customer: int) -> int:
    """The writes Prism's requests made to the customer's contract in the PSA."""
    return world.side.writes(world.contracts[customer])


def landed_intents(world: World, customer: int) -> int:
    with Session(world.engine) as session:
        return int(
            session.scalar(
                select(func.count(InvoiceSyncIntent.id)).where(
                    InvoiceSyncIntent.contract_id == world.contracts[customer],
                    InvoiceSyncIntent.status.in_(["APPLIED", "CONFIRMED"]),
                )
            )
            or 0
        )


__all__: list[date] = []
