"""The units a contract service held before a run (S10, "Reverting a run"): the PSA's units
now minus the run's landed changes in force on each day, pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from prism_psa.invoices.revert import LandedChange, units_before
from prism_psa.invoices.values import Step


def change(day: int, units: int, price: str = "36.00") -> LandedChange:
    return LandedChange(
        customer_id=1,
        sku="E3",
        contract_id=10,
        service_id=20,
        effective=date(2026, 11, day),
        unit_change=units,
        unit_price=Decimal(price),
        unit_cost=Decimal("30.00"),
        until=date(2026, 11, 30),
    )


def psa(
    steps: dict[int, int],
) -> tuple[Callable[[date], int | None], Callable[[date, date], Iterable[date]]]:
    """The PSA's units now: from each November day on (none before the first)."""

    def units_on(day: date) -> int | None:
        held = [u for d, u in steps.items() if date(2026, 11, d) <= day]
        return held[-1] if held else 0

    def change_dates(start: date, end: date) -> Iterable[date]:
        return [date(2026, 11, d) for d in steps if start <= date(2026, 11, d) <= end]

    return units_on, change_dates


def test_the_runs_changes_are_taken_off_and_a_later_hand_edit_is_kept() -> None:
    # Before the run: 3 units. The run: +2 from the 1st, +4 from the 10th (so 5, then 9).
    # After it, someone added 1 by hand from the 20th (10).
    units_on, change_dates = psa({1: 5, 10: 9, 20: 10})

    first, until, steps = units_before(
        [change(1, 2, "40.00"), change(10, 4, "41.00")],
        units_on=units_on,
        change_dates=change_dates,
    )

    assert (first, until) == (date(2026, 11, 1), date(2026, 11, 30))
    assert steps == [
        Step(date(2026, 11, 1), 3, Decimal("40.00"), Decimal("30.00")),
        Step(date(2026, 11, 10), 3, Decimal("41.00"), Decimal("30.00")),
        Step(date(2026, 11, 20), 4, Decimal("41.00"), Decimal("30.00")),  # the edit, kept
    ]


def test_a_day_never_falls_below_zero() -> None:
    units_on, change_dates = psa({1: 1})  # 3 added by the run, 2 removed by hand since

    _, _, steps = units_before(
        [change(1, 3)],
        units_on=units_on,
        change_dates=change_dates,
    )

    assert [s.units for s in steps] == [0]
