from __future__ import annotations

from datetime import date

import pytest

from prism_domain.money import Money
from prism_domain.periods import Period, add_years, day_count, prorate

pytestmark = pytest.mark.unit


def test_a_month_is_a_period_with_an_inclusive_last_day() -> None:
    november = Period.month(2026, 11)
    assert (november.start, november.end, november.days) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        30,
    )
    assert november.end_exclusive == date(2026, 12, 1)
    assert Period.month(2028, 2).days == 29
    assert Period.month_of(date(2026, 12, 31)).next_month() == Period.month(2027, 1)
    assert Period.parse_month("2026-11") == november
    assert date(2026, 11, 30) in november and date(2026, 12, 1) not in november


@pytest.mark.parametrize(
    "text",
    ["2026-13", "2026-1", "Nov 2026", "", "0000-01", "2026-11\n-", "\u0662\u0660\u0662\u0666-11"],
)
def test_a_month_is_written_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError):
        Period.parse_month(text)


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        Period(date(2026, 11, 2), date(2026, 11, 1))


def test_day_counts_include_both_ends() -> None:
    assert day_count(date(2026, 11, 1), date(2026, 11, 1)) == 1
    assert day_count(date(2026, 11, 10), date(2026, 11, 30)) == 21


def test_a_period_splits_at_change_dates_inside_it() -> None:
    november = Period.month(2026, 11)
    parts = november.split_at(
        [
            date(2026, 11, 20),
            date(2026, 11, 10),
            date(2026, 11, 10),
            date(2026, 11, 1),
            date(2026, 12, 5),
        ]
    )
    assert parts == (
        Period(date(2026, 11, 1), date(2026, 11, 9)),
        Period(date(2026, 11, 10), date(2026, 11, 19)),
        Period(date(2026, 11, 20), date(2026, 11, 30)),
    )


def test_prorating_rounds_once_half_up() -> None:
    assert prorate(Money.of("100", "AUD"), 10, 30) == Money.of("33.33", "AUD")
    assert prorate(Money.of("206.25", "AUD"), 9, 30) == Money.of("61.88", "AUD")  # 61.875
    assert prorate(Money.of("100", "AUD"), 30, 30) == Money.of("100.00", "AUD")
    assert prorate(Money.of("-240", "AUD"), 1, 365) == Money.of("-0.66", "AUD")


@pytest.mark.parametrize(("used", "days"), [(31, 30), (-1, 30), (0, 0)])
def test_prorating_refuses_impossible_days(used: int, days: int) -> None:
    with pytest.raises(ValueError):
        prorate(Money.of("1", "AUD"), used, days)


def test_prorating_refuses_fractional_days() -> None:
    with pytest.raises(TypeError):
        prorate(Money.of("1", "AUD"), 1.5, 30)  # type: ignore[arg-type]


def test_a_year_after_29_february_is_28_february() -> None:
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)
