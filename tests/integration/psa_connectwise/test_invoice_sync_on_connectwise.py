"""The invoice sync against ConnectWise (the adapter over the simulator): a month's invoice
becomes additions that ConnectWise prorates, a re-sync writes nothing, a decrease mid-month is
made by cancel-and-add, months synced out of order end up right, and ConnectWise's invoice
run bills what the invoices say (S5, S10, S13)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from connectwise_sim import Fault
from tests.integration.psa_connectwise.support import Partner, new_partner, prorated
from tests.integration.syncer.invoices.support import Line, month_end
from tests.support.connectwise import connectwise

pytestmark = pytest.mark.integration

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture
def partner(database_url: str, sync_engine: Engine) -> Iterator[Partner]:
    with connectwise() as cw:
        yield new_partner(sync_engine, cw)


def test_a_months_invoice_becomes_an_addition_connectwise_bills(partner: Partner) -> None:
    customer, agreement = partner.customer()
    invoice = partner.world.invoice(NOV, [Line(customer, "E3", 5, NOV, month_end(NOV))])

    run = partner.sync(invoice)

    assert run.status == "SUCCESS", run.message
    assert partner.units(agreement, "E3", NOV - timedelta(days=1), month_end(NOV)) == [0] + [5] * 30
    assert len(partner.addition_writes()) == 1
    assert partner.billed(agreement, NOV) == Decimal("180.00")


def test_a_resync_writes_nothing(partner: Partner) -> None:
    customer, _ = partner.customer()
    lines = [
        Line(customer, "E3", 5, NOV, date(2026, 11, 9)),
        Line(customer, "E3", 7, date(2026, 11, 10), month_end(NOV)),
    ]
    first = partner.sync(partner.world.invoice(NOV, lines))
    assert first.status == "SUCCESS", first.message
    writes = partner.addition_writes()

    again = partner.sync(partner.world.invoice(NOV, lines))

    assert again.status == "NO_CHANGE", again.message
    assert partner.addition_writes() == writes


def test_a_decrease_mid_month_is_cancel_and_add_and_prorated(partner: Partner) -> None:
    customer, agreement = partner.customer()
    lines = [
        Line(customer, "E3", 5, NOV, date(2026, 11, 14)),
        Line(customer, "E3", 3, date(2026, 11, 15), month_end(NOV)),
    ]

    run = partner.sync(partner.world.invoice(NOV, lines))

    assert run.status == "SUCCESS", run.message
    want = [5] * 14 + [3] * 16
    assert partner.units(agreement, "E3", NOV, month_end(NOV)) == want
    first_addition = partner.cw.additions(agreement)[0]
    assert first_addition["quantity"] == 5  # never changed: cancelled on the change day
    assert first_addition["cancelledDate"].startswith("2026-11-15")
    assert partner.billed(agreement, NOV) == prorated(want).quantize(Decimal("0.01"))
    december = partner.sync(
        partner.world.invoice(DEC, [Line(customer, "E3", 3, DEC, month_end(DEC))])
    )
    assert december.status == "NO_CHANGE", december.message


def test_months_synced_out_of_order_end_up_as_the_invoices_say(partner: Partner) -> None:
    customer, agreement = partner.customer()
    december = partner.world.invoice(DEC, [Line(customer, "E3", 4, DEC, month_end(DEC))])
    november = partner.world.invoice(
        NOV,
        [
            Line(customer, "E3", 2, NOV, date(2026, 11, 19)),
            Line(customer, "E3", 6, date(2026, 11, 20), month_end(NOV)),
        ],
    )

    assert partner.sync(december).status == "SUCCESS"
    late = partner.sync(november)

    assert late.status in ("SUCCESS", "WARNING"), late.message
    nov = [2] * 19 + [6] * 11
    assert partner.units(agreement, "E3", NOV, month_end(NOV)) == nov
    assert partner.units(agreement, "E3", DEC, month_end(DEC)) == [4] * 31
    assert partner.billed(agreement, NOV) == prorated(nov).quantize(Decimal("0.01"))
    assert partner.billed(agreement, DEC) == Decimal("144.00")
    writes = partner.addition_writes()
    assert partner.sync(november).status == "NO_CHANGE"
    assert partner.sync(december).status == "NO_CHANGE"
    assert partner.addition_writes() == writes


def test_a_failed_write_is_read_back_and_made_once(partner: Partner) -> None:
    customer, agreement = partner.customer()
    partner.cw.sim.add_fault(Fault(502, method="POST", path="additions"))

    run = partner.sync(partner.world.invoice(NOV, [Line(customer, "E3", 5, NOV, month_end(NOV))]))

    assert run.status == "SUCCESS", run.message
    assert partner.units(agreement, "E3", NOV, month_end(NOV)) == [5] * 30
    assert len(partner.cw.additions(agreement)) == 1
