"""The desired timeline (S11): what a contract service must hold on each day, from all
issued invoices of the partner and program, and how the PSA's units compare with it.

On a day an invoice covers, that invoice's quantity of the product (0 when it has no line for
it that day); between invoices and after the latest one, the last quantity carries on (Azure
usage: back to 0). Where two invoices cover a day, the later one counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_psa.invoices.values import Check, InvoiceLine, IssuedPeriod, Step


def syncable(line: InvoiceLine, *, sync_usage: bool) -> bool:
    """A line the PSA's contract units stand for: monthly whole-unit licences, usage if on."""
    if line.kind is LineKind.SUBSCRIPTION:
        return (
            line.term is BillingTerm.MONTHLY and line.quantity == line.quantity.to_integral_value()
        )
    return line.kind is LineKind.USAGE and sync_usage


def desired_steps(
    invoices: Sequence[IssuedPeriod], customer_id: int, sku: str, *, sync_usage: bool
) -> list[Step]:
    """The desired timeline of one customer's product, from the first invoice's start (S11).

    On a day an invoice covers, its units that day (0 without a line); where invoices overlap,
    the later one (by start, then id) wins from its start; between invoices and after the
    latest, the last units carry on (usage: 0 after its period).
    """
    ordered = sorted(invoices, key=lambda i: (i.start, i.id))
    steps: list[Step] = []

    def put(step: Step) -> None:
        if steps and steps[-1].effective == step.effective:
            steps.pop()
        if steps and (steps[-1].units, steps[-1].unit_price, steps[-1].unit_cost) == (
            step.units,
            step.unit_price,
            step.unit_cost,
        ):
            return
        steps.append(step)

    for k, invoice in enumerate(ordered):
        following = ordered[k + 1].start if k + 1 < len(ordered) else None
        last = invoice.end if following is None else min(invoice.end, following - ONE_DAY)
        if last < invoice.start:
            continue  # a later invoice of the same period replaces it
        mine = [
            ln
            for ln in invoice.by_product.get((customer_id, sku), ())
            if syncable(ln, sync_usage=sync_usage)
        ]
        for step in _period_steps(mine, invoice.start, invoice.end):
            carry = step.effective == invoice.end + ONE_DAY
            if step.effective <= last or (
                carry and (following is None or following > last + ONE_DAY)
            ):
                put(step)
    return steps


def steps_from(steps: Sequence[Step], day: date) -> list[Step]:
    """The same timeline from `day` on: its first step says what is in force on `day`."""
    before = [s for s in steps if s.effective <= day]
    head = before[-1] if before else Step(day, 0)
    return [Step(day, head.units, head.unit_price, head.unit_cost)] + [
        s for s in steps if s.effective > day
    ]


def units_of(steps: Sequence[Step], day: date) -> int:
    current = 0
    for step in steps:
        if step.effective > day:
            break
        current = step.units
    return current


ONE_DAY = timedelta(days=1)


def _period_steps(lines: list[InvoiceLine], start: date, end: date) -> list[Step]:
    """One invoice's steps for one product over its period [start, end], and the step after
    it when the units change there (usage going back to 0)."""
    if lines and lines[0].kind is LineKind.USAGE:
        steps = [Step(start, 0)]
        steps += [Step(day, units, price, cost) for day, units, price, cost in _usage_steps(lines)]
        return [s for s in steps if start <= s.effective <= end + ONE_DAY]
    days = {start} | {ln.period_start for ln in lines} | {ln.period_end + ONE_DAY for ln in lines}
    steps = []
    for day in sorted(d for d in days if start <= d <= end):
        steps.append(Step(day, *_units_on(lines, day)))
    return steps


def _units_on(lines: list[InvoiceLine], day: date) -> tuple[int, Decimal, Decimal]:
    """Units of the lines in force on `day` (several subscriptions of one product add up) at
    the price of the most recently started one (ties: the highest price)."""
    in_force = [ln for ln in lines if ln.period_start <= day <= ln.period_end]
    units = int(sum((ln.quantity for ln in in_force), Decimal(0)))
    priced = max(in_force, key=lambda ln: (ln.period_start, ln.unit_price), default=None)
    if priced is None or units == 0:
        return units, Decimal(0), Decimal(0)
    return units, priced.unit_price, priced.unit_cost


_RawStep = tuple[date, int, Decimal, Decimal]


def _usage_steps(lines: list[InvoiceLine]) -> list[_RawStep]:
    """Azure usage: one unit at the month's usage price from the period start, back to zero
    from the day after the period (S5)."""
    start = min(ln.period_start for ln in lines)
    end = max(ln.period_end for ln in lines)
    price = sum((ln.quantity * ln.unit_price for ln in lines), Decimal(0))
    cost = sum((ln.quantity * ln.unit_cost for ln in lines), Decimal(0))
    return [(start, 1, price, cost), (end + timedelta(days=1), 0, Decimal(0), Decimal(0))]


@dataclass(frozen=True)
class Segment:
    """Days `start`..`end` on which the desired units and the PSA's stay the same."""

    start: date
    end: date
    expected: int
    actual: int | None  # None: the PSA could not be read

    @property
    def matches(self) -> bool:
        return self.actual is not None and self.actual == self.expected


def compare(
    check: Check,
    *,
    units_on: Callable[[date], int | None] | None,
    change_dates: Callable[[date, date], Iterable[date]],
) -> list[Segment]:
    """Every day of `check` (from its start to its until), desired units vs the PSA's, as
    segments of days where neither changes. `units_on` None: the PSA was not readable."""
    start, until = check.start, check.until
    if until < start:
        return []
    days = {start} | {s.effective for s in check.expected if start < s.effective <= until}
    if units_on is not None:
        days |= {d for d in change_dates(start, until) if start < d <= until}
    ordered = sorted(days)
    segments: list[Segment] = []
    for i, day in enumerate(ordered):
        expected = units_of(check.expected, day)
        actual = (units_on(day) or 0) if units_on is not None else None
        end = ordered[i + 1] - ONE_DAY if i + 1 < len(ordered) else until
        if segments and (segments[-1].expected, segments[-1].actual) == (expected, actual):
            last = segments.pop()
            segments.append(Segment(last.start, end, expected, actual))
        else:
            segments.append(Segment(day, end, expected, actual))
    return segments
