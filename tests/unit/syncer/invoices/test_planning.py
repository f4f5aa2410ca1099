"""Invoice sync planning (S5, S10): targets from invoice lines, and reconciliation that makes
the PSA's units equal the invoice on every day, whatever was there before, exactly once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_psa.invoices.planning import plan_invoice, reconcile, target_on
from prism_psa.invoices.values import Contract, InvoiceLine, Outcome, Target

pytestmark = pytest.mark.unit

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)
CONTRACTS = {1: Contract("C-1", start=date(2026, 1, 1), end=date(2027, 12, 31))}
SERVICES = {"M365-E3": "S-e3", "AZURE": "S-azure", "E5-ANNUAL": "S-e5"}


def line(
    qty: int | str,
    start: date = NOV_1,
    end: date = NOV_30,
    *,
    sku: str = "M365-E3",
    kind: LineKind = LineKind.SUBSCRIPTION,
    term: BillingTerm = BillingTerm.MONTHLY,
    customer: int = 1,
    sub: int = 10,
    price: str = "36.00",
    cost: str = "32.40",
) -> InvoiceLine:
    return InvoiceLine(
        customer_id=customer,
        subscription_id=sub,
        sku=sku,
        kind=kind,
        term=term,
        period_start=start,
        period_end=end,
        quantity=Decimal(str(qty)),
        unit_cost=Decimal(cost),
        unit_price=Decimal(price),
    )


def test_a_mid_month_change_becomes_two_targets() -> None:
    plan = plan_invoice(
        [line(5, NOV_1, date(2026, 11, 14)), line(8, date(2026, 11, 15), NOV_30)],
        contracts=CONTRACTS,
        services=SERVICES,
        sync_usage=True,
    )
    assert [(t.effective, t.units, t.service_ref) for t in plan.targets] == [
        (NOV_1, 5, "S-e3"),
        (date(2026, 11, 15), 8, "S-e3"),
    ]
    assert plan.skipped == []


def test_subscriptions_of_one_product_add_up_in_one_contract_service() -> None:
    plan = plan_invoice(
        [line(5, sub=10), line(2, date(2026, 11, 10), NOV_30, sub=11)],
        contracts=CONTRACTS,
        services=SERVICES,
        sync_usage=True,
    )
    assert [(t.effective, t.units) for t in plan.targets] == [
        (NOV_1, 5),
        (date(2026, 11, 10), 7),
    ]


def test_what_is_not_synced_is_reported_with_its_reason() -> None:
    plan = plan_invoice(
        [
            line(1, sku="E5-ANNUAL", term=BillingTerm.ANNUAL),
            line(1, kind=LineKind.ADJUSTMENT),
            line(1, kind=LineKind.ONE_TIME_FEE),
            line(3, customer=2),
            line(3, sku="UNKNOWN"),
            line("1.5"),
        ],
        contracts=CONTRACTS,
        services=SERVICES,
        sync_usage=True,
    )
    assert plan.targets == []
    assert [s.outcome for s in plan.skipped] == [
        Outcome.ANNUAL_SKIPPED,
        Outcome.NOT_SYNCED_KIND,
        Outcome.NOT_SYNCED_KIND,
        Outcome.CUSTOMER_NOT_SYNCED,
        Outcome.PRODUCT_NOT_FOUND,
        Outcome.FRACTIONAL_QUANTITY,
    ]
    assert all(s.message for s in plan.skipped)


def test_an_inactive_or_non_recurring_contract_is_an_item_error() -> None:
    plan = plan_invoice(
        [line(5)],
        contracts={1: Contract("C-1", active=False)},
        services=SERVICES,
        sync_usage=True,
    )
    assert [s.outcome for s in plan.skipped] == [Outcome.CONTRACT_NOT_USABLE]


def test_a_date_outside_the_contract_is_an_item_error() -> None:
    plan = plan_invoice(
        [line(5)],
        contracts={1: Contract("C-1", start=date(2026, 11, 10))},
        services=SERVICES,
        sync_usage=True,
    )
    assert [s.outcome for s in plan.skipped] == [Outcome.DATE_OUTSIDE_CONTRACT]


def test_azure_usage_is_one_unit_at_the_months_price_then_zero() -> None:
    usage = [
        line("120.5", sku="AZURE", kind=LineKind.USAGE, price="0.10", cost="0.08"),
        line("10", sku="AZURE", kind=LineKind.USAGE, price="1.00", cost="0.90"),
    ]
    plan = plan_invoice(usage, contracts=CONTRACTS, services=SERVICES, sync_usage=True)
    assert [(t.effective, t.units, t.unit_price, t.unit_cost) for t in plan.targets] == [
        (NOV_1, 1, Decimal("22.050"), Decimal("18.640")),
        (date(2026, 12, 1), 0, Decimal(0), Decimal(0)),
    ]
    off = plan_invoice(usage, contracts=CONTRACTS, services=SERVICES, sync_usage=False)
    assert off.targets == [] and {s.outcome for s in off.skipped} == {Outcome.USAGE_SYNC_OFF}


# Reconciliation against a model of the PSA's unit history --------------------------------


class FakeUnits:
    """A contract service's adjustments, as the PSA keeps them: units are their running sum."""

    def __init__(self, adjustments: list[tuple[date, int]] | None) -> None:
        self.exists = adjustments is not None
        self.adjustments = list(adjustments or [])

    def units_on(self, day: date) -> int | None:
        if not self.exists:
            return None
        return sum(change for when, change in self.adjustments if when <= day)

    def change_dates(self, start: date, end: date) -> list[date]:
        return sorted({when for when, _ in self.adjustments if start <= when <= end})

    def apply(self, changes: list) -> None:  # type: ignore[type-arg]
        self.exists = True
        self.adjustments += [(a.effective, a.unit_change) for a in changes]


def targets_of(steps: list[tuple[int, int]]) -> list[Target]:
    return [
        Target(
            1,
            "C-1",
            "S-e3",
            "M365-E3",
            NOV_1 + timedelta(days=offset),
            units,
            Decimal("36"),
            Decimal("32.4"),
        )
        for offset, units in steps
    ]


def test_a_manual_change_in_the_psa_is_corrected_to_the_invoice() -> None:
    psa = FakeUnits([(date(2026, 10, 1), 5), (date(2026, 11, 20), 2)])  # someone added 2
    targets = targets_of([(0, 5)])

    changes = reconcile(targets, units_on=psa.units_on, change_dates=psa.change_dates, until=NOV_30)
    psa.apply(changes)

    assert [(c.effective, c.unit_change) for c in changes] == [(date(2026, 11, 20), -2)]
    assert all(psa.units_on(NOV_1 + timedelta(days=i)) == 5 for i in range(30))


def test_a_new_contract_service_starts_from_zero() -> None:
    psa = FakeUnits(None)
    changes = reconcile(
        targets_of([(0, 5), (14, 8)]),
        units_on=psa.units_on,
        change_dates=psa.change_dates,
        until=NOV_30,
    )
    assert [(c.effective, c.unit_change) for c in changes] == [(NOV_1, 5), (date(2026, 11, 15), 3)]


day_offsets = st.integers(min_value=0, max_value=29)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    manual=st.one_of(
        st.none(),
        st.lists(st.tuples(st.integers(-40, 45), st.integers(-5, 9)), max_size=6),
    ),
    steps=st.lists(st.tuples(day_offsets, st.integers(0, 50)), min_size=1, max_size=5),
    interrupted_after=st.integers(min_value=0, max_value=6),
)
def test_after_reconciling_the_psa_equals_the_invoice_every_day_and_only_once(
    manual: list[tuple[int, int]] | None, steps: list[tuple[int, int]], interrupted_after: int
) -> None:
    start_units = [(date(2026, 10, 1), 0)] if manual is not None else None
    psa = FakeUnits(
        None
        if manual is None
        else (start_units or []) + [(NOV_1 + timedelta(days=o), c) for o, c in manual]
    )
    targets = sorted(targets_of(sorted(dict(steps).items())), key=lambda t: t.effective)

    def run(limit: int | None = None) -> list:  # type: ignore[type-arg]
        changes = reconcile(
            targets, units_on=psa.units_on, change_dates=psa.change_dates, until=NOV_30
        )
        psa.apply(changes[:limit] if limit is not None else changes)
        return changes

    run(limit=interrupted_after)  # a crash part-way: only some adjustments were written
    run()  # the retry writes only what is still missing
    assert run() == []  # and a redelivery writes nothing

    for i in range(30):
        day = NOV_1 + timedelta(days=i)
        expected = target_on(targets, day)
        if expected is not None:
            assert psa.units_on(day) == expected.units, day
