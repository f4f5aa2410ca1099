"""The PSA follows the desired timeline, whatever happens in whatever order (S5, S10, S11).

A hypothesis state machine over six months of one customer with two products: quantity
changes, billing runs in and out of order, syncs of the latest and of older invoices (again
and again, crashing at any point or losing the PSA's answer), hand edits of units in the PSA
and deleted contract services, on each PSA: Autotask under both ways it may end a split unit
row, and ConnectWise (this folder's `side` fixture plays all three).

The model is independent of the syncer: it keeps the issued invoices' quantities day by day
and derives the desired units from them (the invoice covering a day says its quantity, 0
without a line; between and after invoices the last quantity carries on). After every sync:
- every day from the synced invoice's first day to the end of the latest invoice holds the
  desired units, and no day before it changed;
- the same sync again writes nothing, and every adjustment that reached the PSA is one
  landed intent (nothing is written twice; on ConnectWise, where a decrease is several
  writes, no write is without a landed intent);
- the run says the truth: WARNING or FAILURE exactly when some day from the first synced
  invoice's start to the end of the latest invoice still differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_tables.sync.invoices import InvoiceSyncIntent
from tests.integration.syncer.invoices.support import (
    CRASH_POINTS,
    Line,
    PsaSide,
    World,
    crash_once,
    month_end,
)
from tests.support.backends import examples

pytestmark = pytest.mark.integration

SKUS = ("E3", "E5")
MONTHS = tuple(date(2026, m, 1) for m in range(6, 12))  # June to November 2026
FIRST, LAST = MONTHS[0], month_end(MONTHS[-1])


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _psa_units(world: World, customer: int, sku: str) -> dict[date, int]:
    """The PSA's units on every day of the six months, as it bills them."""
    return {day: world.units_on(customer, sku, day) for day in _days(FIRST, LAST)}


def test_the_psa_follows_the_desired_timeline(
    database_url: str, sync_engine: Engine, side: PsaSide
) -> None:
    world = World(sync_engine, None, psa=side)

    class DesiredTimeline(RuleBasedStateMachine):
        @initialize(e3=st.integers(1, 9), e5=st.integers(0, 4))
        def new_customer(self, e3: int, e5: int) -> None:
            nonlocal world
            world = World.create(sync_engine, side, skus=SKUS)  # a partner of its own
            world.side.clear_log()  # counted per example (a bounded log)
            self.customer = world.customer()
            self.contract = world.contracts[self.customer]
            # The subscriptions' quantity per SKU from each day on (what billing reads).
            self.quantity: dict[str, dict[date, int]] = {"E3": {FIRST: e3}, "E5": {FIRST: e5}}
            # Issued invoices: id -> (start, end, per SKU the billed units per day).
            self.invoices: dict[int, tuple[date, date, dict[str, dict[date, int]]]] = {}
            self.first_synced: date | None = None

        # -- what happens ----------------------------------------------------------------

        @rule(
            sku=st.sampled_from(SKUS),
            month=st.integers(0, len(MONTHS) - 1),
            day=st.integers(0, 27),
            quantity=st.integers(0, 9),
        )
        def change_quantity(self, sku: str, month: int, day: int, quantity: int) -> None:
            self.quantity[sku][MONTHS[month] + timedelta(days=day)] = quantity

        @rule(month=st.integers(0, len(MONTHS) - 1))
        def bill(self, month: int) -> None:
            """A billing run for any month not billed yet, before or after the billed ones."""
            self._bill(month)

        @rule(month=st.integers(0, len(MONTHS) - 1), crash=st.sampled_from(CRASH_POINTS))
        def bill_and_sync(self, month: int, crash: str | None) -> None:
            """The usual flow: a month is billed and its invoice synced when issued."""
            invoice = self._bill(month)
            if invoice is not None:
                self._sync(invoice, crash)

        def _bill(self, month: int) -> int | None:
            start = MONTHS[month]
            if any(s == start for s, _, _ in self.invoices.values()):
                return None
            end = month_end(start)
            billed: dict[str, dict[date, int]] = {}
            lines = []
            for sku in SKUS:
                billed[sku] = {day: self._quantity_on(sku, day) for day in _days(start, end)}
                for seg_start, seg_end, units in _segments(billed[sku]):
                    if units:
                        lines.append(Line(self.customer, sku, units, seg_start, seg_end))
            invoice = world.invoice(start, lines)
            self.invoices[invoice] = (start, end, billed)
            return invoice

        @rule(
            sku=st.sampled_from(SKUS),
            day=st.integers(0, (LAST - FIRST).days),
            change=st.integers(-3, 4).filter(bool),
        )
        def edit_units_in_the_psa(self, sku: str, day: int, change: int) -> None:
            if world.contract_service(self.customer, sku) is None:
                return
            # units below zero are refused
            world.side.edit_units(
                self.contract, world.service_id(sku), change, FIRST + timedelta(days=day)
            )

        @rule(sku=st.sampled_from(SKUS))
        def delete_contract_service_in_the_psa(self, sku: str) -> None:
            world.side.remove_service(self.contract, world.service_id(sku))

        @precondition(lambda self: bool(self.invoices))
        @rule(
            pick=st.integers(0, 10),
            crash=st.sampled_from(CRASH_POINTS),
        )
        def sync(self, pick: int, crash: str | None) -> None:
            """Sync an issued invoice (the latest, or an older one), perhaps crashing once."""
            ordered = sorted(self.invoices, key=lambda i: self.invoices[i][0])
            self._sync(ordered[-1] if pick >= len(ordered) else ordered[pick], crash)

        def _sync(self, invoice: int, crash: str | None) -> None:
            start = self.invoices[invoice][0]
            before = {sku: _psa_units(world, self.customer, sku) for sku in SKUS}
            run_id = world.start(invoice)
            if crash is not None:
                crash_once(world, run_id, crash)
            world.syncer(clock=lambda: datetime.now(UTC) + timedelta(minutes=10)).drive(run_id)
            run = world.run(run_id)
            assert run.status not in ("PENDING", "RUNNING"), run.message
            self.first_synced = min(start, self.first_synced or start)
            after = {sku: _psa_units(world, self.customer, sku) for sku in SKUS}

            latest = max(end for _, end, _ in self.invoices.values())
            for sku in SKUS:
                want = self._desired(sku)
                for day in _days(start, latest):
                    assert after[sku][day] == want[day], (sku, day, after[sku][day], want[day])
                for day in _days(FIRST, start - timedelta(days=1)):
                    assert after[sku][day] == before[sku][day], ("touched before", sku, day)

            differs = [
                (sku, day)
                for sku in SKUS
                for day, units in self._desired(sku).items()
                if self.first_synced <= day <= latest and after[sku][day] != units
            ]
            honest = "WARNING" if differs else "SUCCESS"
            assert (run.status in ("WARNING", "FAILURE")) == bool(differs), (
                run.status,
                honest,
                differs[:3],
                run.message,
            )

            writes = self._adjustment_posts()
            again = world.sync(invoice)
            assert self._adjustment_posts() == writes, "a second sync wrote again"
            assert again.status in ("NO_CHANGE", "WARNING"), again.message

        @invariant()
        def every_adjustment_is_one_landed_intent(self) -> None:
            if not hasattr(self, "contract"):
                return
            with Session(world.engine) as session:
                landed = session.scalar(
                    select(func.count(InvoiceSyncIntent.id)).where(
                        InvoiceSyncIntent.contract_id == self.contract,
                        InvoiceSyncIntent.status.in_(["APPLIED", "CONFIRMED"]),
                    )
                )
            if world.side.exact_writes:
                assert self._adjustment_posts() == landed
            else:
                assert landed <= self._adjustment_posts()
                assert (landed == 0) == (self._adjustment_posts() == 0)

        # -- the model ---------------------------------------------------------------------

        def _quantity_on(self, sku: str, day: date) -> int:
            changes = self.quantity[sku]
            return changes[max(d for d in changes if d <= day)]

        def _desired(self, sku: str) -> dict[date, int]:
            """Per day, what the issued invoices say: the covering invoice's units, else the
            last units of the latest invoice before the day; days before any: not desired."""
            by_start = sorted(self.invoices.values(), key=lambda i: i[0])
            out: dict[date, int] = {}
            for day in _days(FIRST, LAST):
                earlier = [inv for inv in by_start if inv[0] <= day]
                if not earlier:
                    continue
                _start, end, billed = earlier[-1]
                out[day] = billed[sku][day] if day <= end else billed[sku][end]
            return out

        def _adjustment_posts(self) -> int:
            """The writes Prism's requests made to the contract in the PSA."""
            return world.side.writes(self.contract)

    run_state_machine_as_test(
        DesiredTimeline,
        settings=settings(
            max_examples=examples(12),
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def _segments(units: dict[date, int]) -> Iterator[tuple[date, date, int]]:
    """Stretches of days with the same units: (first, last, units)."""
    days = sorted(units)
    start = days[0]
    for prev, day in zip(days, [*days[1:], None], strict=True):
        if day is None or units[day] != units[prev]:
            yield start, prev, units[prev]
            if day is not None:
                start = day


__all__: list[Any] = []
