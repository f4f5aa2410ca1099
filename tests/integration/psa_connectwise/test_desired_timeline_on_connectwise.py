"""A property of the invoice sync on ConnectWise (S5, S10, S13): after syncing any invoices in
any order (some more than once), the units ConnectWise holds each day (its additions, merged)
are the desired timeline, a re-sync writes nothing, and ConnectWise's invoice run bills each
month what prorating the desired units gives.

The model is the one of syncer/invoices/test_desired_timeline_stateful.py: the invoice covering
a day says its units (0 without a line); between and after invoices the last units carry on.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from tests.integration.psa_connectwise.support import PRICE, new_partner
from tests.integration.syncer.invoices.support import Line, month_end
from tests.support.connectwise import connectwise
from tests.support.psa import days

pytestmark = pytest.mark.integration

SKUS = ("E3", "E5")
MONTHS = tuple(date(2026, m, 1) for m in range(6, 12))  # June to November 2026

#: Per SKU in a month: the units from its first day, a day of change and the units from then.
month_units = st.fixed_dictionaries(
    {sku: st.tuples(st.integers(0, 6), st.integers(1, 27), st.integers(0, 6)) for sku in SKUS}
)


def _by_day(start: date, plan: tuple[int, int, int]) -> dict[date, int]:
    first, change, then = plan
    return {
        d: first if d < start + timedelta(days=change) else then
        for d in days(start, month_end(start))
    }


def _lines(customer: int, start: date, billed: dict[str, dict[date, int]]) -> list[Line]:
    lines = []
    for sku, units in billed.items():
        ordered = sorted(units)
        seg = ordered[0]
        for prev, day in zip(ordered, [*ordered[1:], None], strict=True):
            if day is None or units[day] != units[prev]:
                if units[prev]:
                    lines.append(Line(customer, sku, units[prev], seg, prev))
                if day is not None:
                    seg = day
    return lines


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_connectwise_holds_the_desired_timeline_and_bills_it(
    database_url: str, sync_engine: Engine, data: st.DataObject
) -> None:
    invoiced = data.draw(
        st.lists(
            st.tuples(st.sampled_from(range(len(MONTHS))), month_units),
            min_size=1,
            max_size=4,
            unique_by=lambda t: t[0],
        ),
        label="invoices",
    )
    order = data.draw(st.permutations(range(len(invoiced))), label="sync order")
    again = data.draw(st.lists(st.sampled_from(range(len(invoiced))), max_size=2), label="again")

    with connectwise() as cw:
        partner = new_partner(sync_engine, cw, SKUS)
        customer, agreement = partner.customer()
        issued: list[tuple[date, int, dict[str, dict[date, int]]]] = []
        for month, plan in invoiced:
            start = MONTHS[month]
            billed = {sku: _by_day(start, plan[sku]) for sku in SKUS}
            invoice = partner.world.invoice(start, _lines(customer, start, billed))
            issued.append((start, invoice, billed))

        for i in [*order, *again]:
            run = partner.sync(issued[i][1])
            assert run.status in ("SUCCESS", "NO_CHANGE"), (run.status, run.message)

        by_start = sorted(issued, key=lambda i: i[0])
        first, latest = by_start[0][0], month_end(by_start[-1][0])

        def desired(sku: str, day: date) -> int:
            start, _, billed = [i for i in by_start if i[0] <= day][-1]
            return billed[sku][min(day, month_end(start))]

        for sku in SKUS:
            held = partner.units(agreement, sku, first, latest)
            want = [desired(sku, d) for d in days(first, latest)]
            assert held == want, sku

        writes = partner.addition_writes()
        for _, invoice, _ in issued:
            assert partner.sync(invoice).status == "NO_CHANGE"
        assert partner.addition_writes() == writes

        month = first
        while month <= latest:
            lines = cw.sim.invoice_month(agreement, month)
            billed_amount = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))
            expected = sum(
                (
                    Decimal(desired(sku, d)) * PRICE
                    for sku in SKUS
                    for d in days(month, month_end(month))
                ),
                Decimal(0),
            ) / Decimal(len(days(month, month_end(month))))
            # ConnectWise rounds each line to the cent.
            assert abs(billed_amount - expected) <= Decimal("0.005") * max(len(lines), 1), month
            month = month_end(month) + timedelta(days=1)
