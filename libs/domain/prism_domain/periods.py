"""Billing periods and proration by days (SPEC O3, P3).

A `Period` is a run of whole days with an **inclusive** last day, as an invoice shows it
("2026-11-01 to 2026-11-30"); `end_exclusive` gives the half-open form when that is easier.
The default billing period is the calendar month. Proration is by days: a part of a period
costs `amount x days_used / days_in_period`, rounded once under the money rounding rule.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from prism_domain.money import Money, round_amount

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# Enough significant digits that quantity x unit price x days / days is exact to far below
# the minor unit before the single rounding (the default context keeps 28).
_PRORATION_PRECISION = 50


def day_count(start: date, end: date) -> int:
    """Days from `start` to `end`, both included (1 when they are the same day)."""
    return (end - start).days + 1


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February falls back to 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """Whole days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last))

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls.month(day.year, day.month)

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """A calendar month from "YYYY-MM"; `ValueError` otherwise."""
        match = _MONTH.fullmatch(text.strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise ValueError(f"{text!r} is not a month such as 2026-11")
        return cls.month(int(match[1]), int(match[2]))

    @property
    def days(self) -> int:
        return day_count(self.start, self.end)

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def next_month(self) -> Period:
        """The calendar month after the one holding this period's last day."""
        return Period.month_of(Period.month_of(self.end).end_exclusive)

    def intersection(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None

    def split_at(self, change_dates: Iterable[date]) -> tuple[Period, ...]:
        """Cut the period so that each change date inside it starts a new part.

        Dates outside the period, and its own first day, cut nothing; duplicates count once.
        The parts are in order, do not overlap and cover the period exactly.
        """
        cuts = sorted({d for d in change_dates if self.start < d <= self.end})
        parts: list[Period] = []
        start = self.start
        for cut in cuts:
            parts.append(Period(start, cut - timedelta(days=1)))
            start = cut
        parts.append(Period(start, self.end))
        return tuple(parts)

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def prorate(amount: Money, days_used: int, days_in_period: int) -> Money:
    """`amount x days_used / days_in_period`, rounded once (minor unit, half up).

    Pass the unrounded `quantity x unit price` so that the line is rounded only here.
    """
    for name, value in (("days_used", days_used), ("days_in_period", days_in_period)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if days_in_period <= 0:
        raise ValueError("days_in_period must be positive")
    if not 0 <= days_used <= days_in_period:
        raise ValueError(f"days_used must be between 0 and {days_in_period}, not {days_used}")
    with localcontext() as ctx:
        ctx.prec = _PRORATION_PRECISION
        exact = amount.amount * Decimal(days_used) / Decimal(days_in_period)
        return Money(round_amount(exact, amount.currency), amount.currency)
