"""The merged timeline of a product's additions on a ConnectWise agreement: rows that never
overlap and hold, each day, the quantities of the additions in effect added up (S5, S13)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prism_psa.connectwise_timeline import AdditionLine, Segment, merged
from prism_psa.invoices.units import UnitHistory
from prism_psa.port import UnitRow

pytestmark = pytest.mark.unit

DAY0 = date(2026, 1, 1)
HORIZON = 90


def line(id: int, quantity: int, start: int, stop: int | None, price: str = "10") -> AdditionLine:
    return AdditionLine(
        id=id,
        product_id=7,
        quantity=quantity,
        start=DAY0 + timedelta(days=start),
        stop=DAY0 + timedelta(days=stop) if stop is not None else None,
        unit_price=Decimal(price),
        unit_cost=Decimal("8"),
    )


def test_overlapping_additions_add_up_and_equal_neighbours_join() -> None:
    lines = [line(1, 5, 0, None), line(2, 2, 10, 20), line(3, 2, 20, None)]

    assert merged(lines) == [
        Segment(DAY0, DAY0 + timedelta(days=9), 5, Decimal("10"), Decimal("8")),
        Segment(DAY0 + timedelta(days=10), None, 7, Decimal("10"), Decimal("8")),
    ]


def test_price_is_the_latest_additions_and_empty_days_give_no_row() -> None:
    lines = [line(1, 1, 0, 5), line(2, 1, 3, 5, price="12"), line(3, 4, 8, 8)]

    assert [
        (s.start.day, s.end.day if s.end else None, s.units, s.unit_price) for s in merged(lines)
    ] == [
        (1, 3, 1, Decimal("10")),
        (4, 5, 2, Decimal("12")),
    ]


additions = st.lists(
    st.tuples(
        st.integers(0, 5),
        st.integers(0, HORIZON - 1),
        st.none() | st.integers(0, 40),
    ),
    max_size=8,
)


@given(additions, st.none() | st.integers(0, HORIZON - 1))
def test_each_day_holds_the_sum_of_the_additions_in_effect(
    raw: list[tuple[int, int, int | None]], since: int | None
) -> None:
    lines = [
        line(i + 1, q, start, start + length if length is not None else None)
        for i, (q, start, length) in enumerate(raw)
    ]
    first = DAY0 + timedelta(days=since) if since is not None else None
    segments = merged(lines, since=first)

    last = DAY0 + timedelta(days=HORIZON + 45)
    rows = [
        UnitRow(1, 1, 7, s.start, s.end if s.end is not None else last, s.units) for s in segments
    ]
    history = UnitHistory(1, rows)
    for n in range(HORIZON + 45):
        day = DAY0 + timedelta(days=n)
        if first is not None and day < first:
            continue
        assert history.units_on(day) == sum(ln.quantity for ln in lines if ln.covers(day)), day
    for a, b in pairwise(segments):
        assert a.end is not None and a.end < b.start  # never overlapping, in order
