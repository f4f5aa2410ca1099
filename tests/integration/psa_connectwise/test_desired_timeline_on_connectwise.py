"""A property of the invoice sync on ConnectWise (S5, S10, S13): whatever invoices are issued
and synced in whatever order (some more than once), each sync makes ConnectWise's units (its
additions, merged) the desired timeline from the synced invoice's first day on and changes
no day before it; once every invoice is synced every day is desired, a re-sync writes nothing,
and ConnectWise's invoice run bills each month what prorating the desired units gives. People
add and end additions by hand in between: a sync then says WARNING exactly when a synced day
still differs (one before the days it may touch), and decreases meet additions a person ended.

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

from connectwise_client import Addition, Reference
from tests.integration.psa_connectwise.support import PRICE, new_partner
from tests.integration.syncer.invoices.support import Line, month_end
from tests.support.backends import examples
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


Issued = tuple[date, int, dict[str, dict[date, int]]]  # start, invoice id, units by day

steps = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(0, len(MONTHS) - 1), month_units),
        st.tuples(st.just("sync"), st.integers(0, 6), st.none()),
        st.tuples(
            st.just("edit"),
            st.integers(0, (month_end(MONTHS[-1]) - MONTHS[0]).days),
            st.tuples(
                st.sampled_from(SKUS),
                st.integers(-1, 3).filter(bool),
                st.none() | st.integers(1, 60),
            ),
        ),
    ),
    min_size=1,
    max_size=10,
)


def _desired(issued: list[Issued], sku: str, day: date) -> int | None:
    """The covering invoice's units, else the last units of the latest invoice before the
    day; None before every invoice (not desired)."""
    earlier = sorted((i for i in issued if i[0] <= day), key=lambda i: i[0])
    if not earlier:
        return None
    start, _, billed = earlier[-1]
    return billed[sku][min(day, month_end(start))]


@settings(
    max_examples=examples(15),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_connectwise_holds_the_desired_timeline_and_bills_it(
    database_url: str, sync_engine: Engine, data: st.DataObject
) -> None:
    plan = data.draw(steps, label="steps")

    with connectwise() as cw:
        partner = new_partner(sync_engine, cw, SKUS)
        customer, agreement = partner.customer()
        issued: list[Issued] = []
        first_synced: list[date] = []

        def issue(month: int, units: dict[str, tuple[int, int, int]]) -> None:
            start = MONTHS[month]
            if any(i[0] == start for i in issued):
                return
            billed = {sku: _by_day(start, units[sku]) for sku in SKUS}
            issued.append(
                (start, partner.world.invoice(start, _lines(customer, start, billed)), billed)
            )

        def sync(item: Issued) -> None:
            """The sync makes every day from the invoice's first day to the end of the latest
            invoice desired, and changes no day before it."""
            start, invoice, _ = item
            latest = max(month_end(i[0]) for i in issued)
            before = {sku: partner.units(agreement, sku, MONTHS[0], latest) for sku in SKUS}
            run = partner.sync(invoice)
            first_synced.append(start)
            differs = [
                (sku, day, units)
                for sku in SKUS
                for day, units in zip(
                    days(MONTHS[0], latest),
                    partner.units(agreement, sku, MONTHS[0], latest),
                    strict=True,
                )
                if min(first_synced) <= day and units != _desired(issued, sku, day)
            ]
            # The run says the truth: a warning exactly when a synced day still differs
            # (a person changed it before the days this sync may touch).
            assert run.status != "FAILURE", run.message
            assert (run.status == "WARNING") == bool(differs), (run.status, differs[:3])
            for sku in SKUS:
                held = dict(
                    zip(
                        days(MONTHS[0], latest),
                        partner.units(agreement, sku, MONTHS[0], latest),
                        strict=True,
                    )
                )
                for n, day in enumerate(days(MONTHS[0], latest)):
                    if day < start:
                        assert held[day] == before[sku][n], ("touched before", sku, day)
                    else:
                        assert held[day] == _desired(issued, sku, day), (sku, day)

        def edit(offset: int, sku: str, change: int, lasting: int | None) -> None:
            """A person adds units of a product Prism put on the agreement by hand (for a
            while, or on), or ends the latest of its additions running on from that day."""
            day = MONTHS[0] + timedelta(days=offset)
            product = partner.services[sku]
            additions = cw.psa.client.agreements.additions(agreement)
            if not cw.additions(agreement, product):
                return  # as the Autotask property edits only services on the contract
            if change > 0:
                record = Addition(
                    product=Reference.to(product),
                    quantity=Decimal(change),
                    bill_customer="Billable",
                    effective_date=day,
                )
                if lasting is not None:
                    record.cancelled_date = day + timedelta(days=lasting)
                additions.create(record)
                return
            running = [
                a
                for a in cw.additions(agreement, product)
                if a["cancelledDate"] is None and a["effectiveDate"][:10] <= day.isoformat()
            ]
            if running:
                additions.patch(running[-1]["id"], Addition(cancelled_date=day))

        for kind, number, units in plan:
            if kind == "issue":
                issue(number, units)  # type: ignore[arg-type]
            elif kind == "edit":
                edit(number, *units)  # type: ignore[misc]
            elif issued:
                ordered = sorted(issued, key=lambda i: i[0])
                sync(ordered[min(number, len(ordered) - 1)])
        if not issued:
            return
        for i in data.draw(st.permutations(range(len(issued))), label="then every invoice"):
            sync(issued[i])

        writes = partner.addition_writes()
        for _, invoice, _ in issued:
            assert partner.sync(invoice).status == "NO_CHANGE"
        assert partner.addition_writes() == writes

        # ConnectWise's invoice run, month by month, bills the desired units prorated.
        first = min(i[0] for i in issued)
        latest = max(month_end(i[0]) for i in issued)
        month = first
        while month <= latest:
            lines = cw.sim.invoice_month(agreement, month)
            billed_amount = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))
            month_days = days(month, month_end(month))
            expected = sum(
                (
                    Decimal(_desired(issued, sku, d) or 0) * PRICE
                    for sku in SKUS
                    for d in month_days
                ),
                Decimal(0),
            ) / Decimal(len(month_days))
            # ConnectWise rounds each line to the cent.
            assert abs(billed_amount - expected) <= Decimal("0.005") * max(len(lines), 1), month
            month = month_end(month) + timedelta(days=1)
