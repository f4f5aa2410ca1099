"""What a previewed adjustment adds to the PSA's billing (S5): by days within each monthly
billing period counted from the contract's start, through the last invoiced day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from prism_psa.invoices.preview import billing_change, billing_periods

pytestmark = pytest.mark.unit


def test_a_whole_month_bills_the_units_times_the_price() -> None:
    change = billing_change(
        3, Decimal("36.00"), date(2026, 11, 1), date(2026, 11, 30), anchor=None, currency="AUD"
    )
    assert change == Decimal("108.00")


def test_a_change_inside_a_period_bills_the_days_left_of_it() -> None:
    # 2 x 36.00 x 15/30, as a credit
    change = billing_change(
        -2, Decimal("36.00"), date(2026, 11, 16), date(2026, 11, 30), anchor=None, currency="AUD"
    )
    assert change == Decimal("-36.00")


def test_periods_follow_the_contracts_start_day_and_each_is_rounded_once() -> None:
    assert billing_periods(date(2025, 1, 15), date(2026, 11, 1), date(2026, 12, 20)) == [
        (date(2026, 10, 15), date(2026, 11, 14)),
        (date(2026, 11, 15), date(2026, 12, 14)),
        (date(2026, 12, 15), date(2027, 1, 14)),
    ]
    # 1 x 10.00 x (14/31 + 30/30 + 6/31) = 4.516.. + 10.00 + 1.935.. -> 4.52 + 10.00 + 1.94
    change = billing_change(
        1,
        Decimal("10.00"),
        date(2026, 11, 1),
        date(2026, 12, 20),
        anchor=date(2025, 1, 15),
        currency="AUD",
    )
    assert change == Decimal("16.46")


def test_a_month_end_start_keeps_to_the_last_day_of_shorter_months() -> None:
    assert billing_periods(date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 31))[:2] == [
        (date(2026, 1, 31), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2026, 3, 30)),
    ]


def test_no_change_or_no_day_billed_adds_nothing() -> None:
    assert billing_change(
        0, Decimal(5), date(2026, 11, 1), date(2026, 11, 30), anchor=None, currency="AUD"
    ) == Decimal("0.00")
    assert billing_change(
        2, Decimal(5), date(2026, 12, 1), date(2026, 11, 30), anchor=None, currency="AUD"
    ) == Decimal("0.00")
