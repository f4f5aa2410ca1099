"""The apply step's pure parts (S10): the PSA's unit history read from its unit rows, and the
order adjustments are written in so that no day ever dips below zero units on the way."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prism_psa.invoices.planning import reconcile
from prism_psa.invoices.units import UnitHistory, ordered_for_writing
from prism_psa.invoices.values import Target
from prism_psa.port import UnitRow

pytestmark = pytest.mark.unit

NOV_1 = date(2026, 11, 1)


def row(start: int, end: int, units: int) -> UnitRow:
    return UnitRow(7, 1, 2, NOV_1 + timedelta(days=start), NOV_1 + timedelta(days=end), units)


def test_units_come_from_the_row_billing_the_day() -> None:
    history = UnitHistory(7, [row(14, 29, 8), row(0, 13, 5)])
    assert history.units_on(NOV_1) == 5
    assert history.units_on(NOV_1 + timedelta(days=20)) == 8
    assert history.units_on(date(2026, 10, 31)) == 0  # before the first adjustment
    assert history.change_dates(NOV_1, NOV_1 + timedelta(days=29)) == [
        NOV_1,
        NOV_1 + timedelta(days=14),
    ]


def test_no_contract_service_yet_is_none() -> None:
    assert UnitHistory(None, []).units_on(NOV_1) is None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    existing=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 9)), max_size=5),
    wanted=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 9)), min_size=1, max_size=5),
)
def test_written_one_by_one_in_this_order_no_day_goes_below_zero(
    existing: list[tuple[int, int]], wanted: list[tuple[int, int]]
) -> None:
    # The PSA holds `existing` (units from each day, never negative), the invoice `wanted`.
    def level(steps: list[tuple[int, int]], day: int) -> int:
        current = 0
        for offset, units in sorted(steps):
            if offset <= day:
                current = units
        return current

    deltas: list[tuple[int, int]] = []

    def units_on(day: date) -> int:
        i = (day - NOV_1).days
        return level(existing, i) + sum(c for d, c in deltas if d <= i)

    targets = [
        Target(1, "1", "2", "SKU", NOV_1 + timedelta(days=o), u, Decimal(1), Decimal(1))
        for o, u in sorted(dict(wanted).items())
    ]
    adjustments = reconcile(
        targets,
        units_on=units_on,
        change_dates=lambda s, e: [NOV_1 + timedelta(days=o) for o, _ in existing],
        until=NOV_1 + timedelta(days=29),
    )
    for adjustment in ordered_for_writing(adjustments):
        deltas.append(((adjustment.effective - NOV_1).days, adjustment.unit_change))
        assert all(units_on(NOV_1 + timedelta(days=i)) >= 0 for i in range(45))
    assert sorted(ordered_for_writing(adjustments), key=lambda a: a.effective) == adjustments
