"""The desired timeline and the honest reconciliation, pure (S5, S10, S11).

What a contract service must hold on each day follows from every issued invoice; a run
writes from its invoice's first day on and checks every day from the first synced day; the
units in force on a change day are the newest row's, whichever day Autotask ends the old
row on."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_psa.invoices.planning import plan_invoice, reconcile
from prism_psa.invoices.timeline import compare, desired_steps, units_of
from prism_psa.invoices.units import UnitHistory
from prism_psa.invoices.values import Check, Contract, InvoiceLine, IssuedPeriod, Step
from prism_psa.outcomes import ItemOutcome, RunStatus
from prism_psa.port import UnitRow
from prism_syncer.invoices.status import customer_outcome, run_status

pytestmark = pytest.mark.unit

SKU = "M365-E3"
CONTRACTS = {1: Contract("C-1", start=date(2026, 1, 1), end=date(2027, 12, 31))}
SERVICES = {SKU: "S-e3", "AZURE": "S-azure"}


def month(m: int) -> tuple[date, date]:
    first = date(2026, m, 1)
    nxt = date(2026 + m // 12, m % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def line(
    qty: int, start: date, end: date, *, sku: str = SKU, kind: LineKind = LineKind.SUBSCRIPTION
) -> InvoiceLine:
    return InvoiceLine(
        customer_id=1,
        subscription_id=10,
        sku=sku,
        kind=kind,
        term=BillingTerm.MONTHLY,
        period_start=start,
        period_end=end,
        quantity=Decimal(qty),
        unit_cost=Decimal("32.40"),
        unit_price=Decimal("36.00"),
    )


def invoice(id: int, m: int, *lines: InvoiceLine) -> IssuedPeriod:
    first, last = month(m)
    return IssuedPeriod(id, first, last, lines)


def test_a_day_an_invoice_covers_without_a_line_is_zero_and_the_last_quantity_carries_on() -> None:
    jan, feb, apr = month(1), month(2), month(4)
    invoices = [
        invoice(1, 1, line(5, *jan)),
        invoice(2, 2, line(5, feb[0], date(2026, 2, 11))),  # 0 from the 12th
        invoice(4, 4, line(40, date(2026, 4, 15), apr[1])),  # March not billed
    ]
    steps = desired_steps(invoices, 1, SKU, sync_usage=True)
    assert [(s.effective, s.units) for s in steps] == [
        (jan[0], 5),
        (date(2026, 2, 12), 0),
        (date(2026, 4, 15), 40),
    ]
    assert units_of(steps, date(2026, 3, 20)) == 0  # carried from February's last day
    assert units_of(steps, date(2026, 9, 1)) == 40  # after the latest invoice


def test_a_later_invoice_of_the_same_month_replaces_the_earlier_one() -> None:
    nov = month(11)
    steps = desired_steps(
        [invoice(7, 11, line(5, *nov)), invoice(9, 11, line(3, *nov))], 1, SKU, sync_usage=True
    )
    assert [(s.effective, s.units) for s in steps] == [(nov[0], 3)]


def test_usage_goes_back_to_zero_after_its_month_even_before_the_next_invoice() -> None:
    oct_, nov = month(10), month(11)
    usage = line(1, *oct_, sku="AZURE", kind=LineKind.USAGE)
    steps = desired_steps([invoice(1, 10, usage)], 1, "AZURE", sync_usage=True)
    assert [(s.effective, s.units) for s in steps] == [(oct_[0], 1), (nov[0], 0)]


def test_a_product_that_left_the_invoice_is_planned_at_zero_from_the_invoice_start() -> None:
    jan, feb = month(1), month(2)
    jan_invoice = invoice(1, 1, line(5, jan[0], date(2026, 1, 13)))
    feb_invoice = invoice(2, 2)  # no line for the customer at all
    plan = plan_invoice(
        [],
        contracts=CONTRACTS,
        services=SERVICES,
        sync_usage=True,
        period=feb_invoice,
        invoices=[jan_invoice, feb_invoice],
        billed={1: {SKU: LineKind.SUBSCRIPTION}},
    )
    assert [(t.effective, t.units) for t in plan.targets] == [(feb[0], 0)]
    check = plan.checks[("C-1", "S-e3")]
    assert (check.start, check.until) == (feb[0], feb[1])


def test_an_older_invoices_run_plans_to_the_end_of_the_latest_and_checks_from_the_first() -> None:
    mar, apr, may = month(3), month(4), month(5)
    invoices = [invoice(i, m, line(4 + i, *month(m))) for i, m in ((1, 3), (2, 4), (3, 5))]
    plan = plan_invoice(
        list(invoices[1].lines),
        contracts=CONTRACTS,
        services=SERVICES,
        sync_usage=True,
        period=invoices[1],
        invoices=invoices,
        checked_from={("C-1", "S-e3"): mar[0]},
    )
    assert [(t.effective, t.units) for t in plan.targets] == [(apr[0], 6), (may[0], 7)]
    check = plan.checks[("C-1", "S-e3")]
    assert (check.start, check.until) == (mar[0], may[1])
    assert [(s.effective, s.units) for s in check.expected] == [
        (mar[0], 5),
        (apr[0], 6),
        (may[0], 7),
    ]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    months=st.lists(st.integers(1, 6), min_size=1, max_size=6, unique=True),
    quantities=st.lists(st.integers(0, 9), min_size=6, max_size=6),
    hand=st.lists(st.tuples(st.integers(0, 180), st.integers(-3, 3)), max_size=4),
    synced=st.integers(0, 5),
)
def test_reconciling_from_any_invoice_makes_every_later_day_desired_and_leaves_earlier_days(
    months: list[int], quantities: list[int], hand: list[tuple[int, int]], synced: int
) -> None:
    """Whatever the PSA holds (a previous state plus hand edits), the adjustments planned
    from any invoice make every day from its start to the latest invoice's end desired, and
    change no day before it."""
    invoices = [
        invoice(i, m, *([line(quantities[m - 1], *month(m))] if quantities[m - 1] else []))
        for i, m in enumerate(months)
    ]
    this = invoices[synced % len(invoices)]
    steps = desired_steps(invoices, 1, SKU, sync_usage=True)
    base = date(2026, 1, 1)
    psa: dict[int, int] = {}  # day offset -> delta from that day on

    def units_on(day: date) -> int:
        i = (day - base).days
        return sum(c for d, c in psa.items() if d <= i)

    for offset, change in hand:
        psa[offset] = psa.get(offset, 0) + change
    plan = plan_invoice(
        list(this.lines),
        contracts=CONTRACTS,
        services=SERVICES,
        sync_usage=True,
        period=this,
        invoices=invoices,
        billed={1: {SKU: LineKind.SUBSCRIPTION}},
    )
    before = {d: units_on(base + timedelta(days=d)) for d in range(200)}
    targets = plan.targets
    if not targets:
        return
    check = plan.checks[("C-1", "S-e3")]
    for adjustment in reconcile(
        targets,
        units_on=units_on,
        change_dates=lambda s, e: [
            base + timedelta(days=d) for d in psa if s <= base + timedelta(days=d) <= e
        ],
        until=check.until,
    ):
        d = (adjustment.effective - base).days
        psa[d] = psa.get(d, 0) + adjustment.unit_change
    for d in range(200):
        day = base + timedelta(days=d)
        if day < this.start:
            assert units_on(day) == before[d]
        elif day <= check.until:
            assert units_on(day) == units_of(steps, day), day


def test_the_comparison_reports_each_stretch_that_differs() -> None:
    nov_1, nov_30 = month(11)
    check = Check(nov_1, nov_30, (Step(nov_1, 5), Step(date(2026, 11, 15), 8)))
    rows = [
        UnitRow(7, 1, 2, nov_1, date(2026, 11, 12), 5),
        UnitRow(7, 1, 2, date(2026, 11, 13), date(2026, 11, 14), 7),  # a hand edit
        UnitRow(7, 1, 2, date(2026, 11, 15), nov_30, 8),
    ]
    history = UnitHistory(7, rows)
    segments = compare(check, units_on=history.units_on, change_dates=history.change_dates)
    assert [(s.start, s.end, s.expected, s.actual, s.matches) for s in segments] == [
        (nov_1, date(2026, 11, 12), 5, 5, True),
        (date(2026, 11, 13), date(2026, 11, 14), 5, 7, False),
        (date(2026, 11, 15), nov_30, 8, 8, True),
    ]
    unread = compare(check, units_on=None, change_dates=lambda a, b: [])
    assert unread and not any(s.matches for s in unread)


@pytest.mark.parametrize("ends_on_the_change_day", [False, True])
def test_on_a_change_day_the_newest_row_is_in_force(ends_on_the_change_day: bool) -> None:
    """Autotask's documentation: a split row ends *at* the adjustment's effective date. Read
    either way, the change day has the new units, so a re-sync computes nothing."""
    nov_1, nov_30 = month(11)
    change = date(2026, 11, 15)
    old_end = change if ends_on_the_change_day else change - timedelta(days=1)
    history = UnitHistory(
        7, [UnitRow(7, 1, 2, change, nov_30, 8), UnitRow(7, 1, 2, nov_1, old_end, 5)]
    )
    assert history.units_on(change - timedelta(days=1)) == 5
    assert history.units_on(change) == 8
    assert history.units_on(nov_30 + timedelta(days=1)) == 0
    from prism_psa.invoices.values import Target

    targets = [
        Target(1, "1", "2", SKU, nov_1, 5, Decimal(1), Decimal(1)),
        Target(1, "1", "2", SKU, change, 8, Decimal(1), Decimal(1)),
    ]
    assert (
        reconcile(
            targets, units_on=history.units_on, change_dates=history.change_dates, until=nov_30
        )
        == []
    )


def test_a_run_is_only_as_good_as_what_was_read_back() -> None:
    assert run_status(customers_failed=1, warnings=0, adjustments=3) is RunStatus.FAILURE
    assert run_status(customers_failed=0, warnings=1, adjustments=3) is RunStatus.WARNING
    assert run_status(customers_failed=0, warnings=0, adjustments=3) is RunStatus.SUCCESS
    assert run_status(customers_failed=0, warnings=0, adjustments=0) is RunStatus.NO_CHANGE
    assert customer_outcome(["SUCCESS", "ERROR"]) is ItemOutcome.ERROR
    assert customer_outcome(["SKIPPED"]) is ItemOutcome.SKIPPED
    assert customer_outcome(["NO_CHANGE", "WARNING"]) is ItemOutcome.NO_CHANGE
    assert customer_outcome(["NO_CHANGE", "SUCCESS", "SKIPPED"]) is ItemOutcome.SUCCESS
