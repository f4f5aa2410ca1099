"""S5-S7, S9: the invoice sync's rules, one test each. `world` is each PSA in turn (Autotask
under both row-end conventions, ConnectWise: this folder's `side`); `psa_world` is each PSA
once (`psa_side`), for the rules where how Autotask ends a units row does not matter: its
contract or agreement errors, refusals while writing, a shut-out API user and a refused right,
and usage, each told through the side in its PSA's own words (`side.words`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_domain.sync import (
    InvoiceSyncRequested,
    InvoiceSyncSafetyCheckDue,
    PsaKind,
    SyncTrigger,
)
from prism_platform.mail import MailMessage
from prism_syncer.inbox import process_event
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.invoices.notices import Links
from prism_tables.sync.connections import PsaConnection
from prism_tables.sync.invoices import InvoiceSyncReconciliation, InvoiceSyncRun
from tests.integration.syncer.invoices.support import (
    NOV,
    Line,
    World,
    expected,
    month_end,
)
from tests.support.sides import PsaSide

pytestmark = pytest.mark.integration

DEC = date(2026, 12, 1)
NOV_30 = date(2026, 11, 30)


SKUS = ("E3", "E5", "AZURE", "VISIO")


@pytest.fixture
def world(database_url: str, sync_engine: Engine, side: PsaSide) -> World:
    return World.create(sync_engine, side, skus=SKUS)


@pytest.fixture
def psa_world(database_url: str, sync_engine: Engine, psa_side: PsaSide) -> World:
    return World.create(sync_engine, psa_side, skus=SKUS)


def test_first_sync_adds_the_services_to_an_existing_contract_with_the_invoice_units(
    world: World,
) -> None:
    customer = world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(customer, "E3", 5, NOV, date(2026, 11, 14)),
            Line(customer, "E3", 8, date(2026, 11, 15), NOV_30),
            Line(customer, "E5", 2, NOV, NOV_30, price="60.00", cost="54.00"),
        ],
    )

    run = world.sync(invoice)

    assert run.status == "SUCCESS"
    assert world.month_units(customer, "E3", NOV) == expected([(0, 5), (14, 8)])
    assert world.month_units(customer, "E5", NOV) == expected([(0, 2)])
    # One write per change: the adjustments add the services to the contract themselves.
    assert len(world.writes()) == 3
    assert (run.customers_considered, run.customers_synced, run.customers_failed) == (1, 1, 0)
    assert (run.subscriptions_synced, run.adjustments_applied) == (3, 3)
    lines = [i for i in world.items(run.id) if i.sku]
    assert {(i.quantity, i.outcome) for i in lines} == {
        ("5", "SUCCESS"),
        ("8", "SUCCESS"),
        ("2", "SUCCESS"),
    }
    assert all(i.contract_id == world.contracts[customer] for i in lines)
    with Session(world.engine) as session:
        checks = session.scalars(
            select(InvoiceSyncReconciliation).where(InvoiceSyncReconciliation.run_id == run.id)
        ).all()
    assert checks and all(c.matches for c in checks)
    assert {(c.as_of, c.invoice_units, c.psa_units) for c in checks if c.sku.startswith("E3")} == {
        (NOV, 5, 5),
        (date(2026, 11, 15), 8, 8),
    }  # one row per stretch of days where neither side changes


def test_a_resync_with_nothing_changed_writes_nothing(world: World) -> None:
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)])
    world.sync(invoice)
    before = len(world.writes())

    again = world.sync(invoice)

    assert again.status == "NO_CHANGE"
    assert len(world.writes()) == before
    assert again.subscriptions_synced == 0 and again.customers_synced == 1


def test_manual_edits_in_autotask_are_corrected_by_the_next_invoice(world: World) -> None:
    customer = world.customer()
    world.sync(world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)]))
    contract, service = world.contracts[customer], world.service_id("E3")
    # Someone adds 3 units from 10 December and removes 1 from 20 December in Autotask.
    world.side.edit_units(contract, service, 3, date(2026, 12, 10))
    world.side.edit_units(contract, service, -1, date(2026, 12, 20))

    run = world.sync(world.invoice(DEC, [Line(customer, "E3", 6, DEC, date(2026, 12, 31))]))

    assert run.status == "SUCCESS"
    assert world.month_units(customer, "E3", DEC) == [6] * 31
    assert world.month_units(customer, "E3", NOV) == [5] * 30


def test_a_quantity_change_next_month_is_one_change(world: World) -> None:
    customer = world.customer()
    world.sync(world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)]))
    writes = len(world.writes())

    world.sync(world.invoice(DEC, [Line(customer, "E3", 2, DEC, date(2026, 12, 31))]))

    # Autotask: one adjustment; ConnectWise: the running addition cancelled, 2 added back
    assert len(world.writes()) == writes + world.side.writes_per_decrease
    assert world.month_units(customer, "E3", DEC) == [2] * 31


def test_what_is_not_synced_is_reported_and_the_rest_is_synced(world: World) -> None:
    customer = world.customer()
    unmapped = world.customer(enabled=False)
    invoice = world.invoice(
        NOV,
        [
            Line(customer, "E3", 5, NOV, NOV_30),
            Line(customer, "VISIO", 1, NOV, NOV_30, term=BillingTerm.ANNUAL),
            Line(customer, "E3", -2, NOV, NOV_30, kind=LineKind.ADJUSTMENT, term=None),
            Line(customer, "AZURE", "12.5", NOV, NOV_30, kind=LineKind.USAGE, term=None),
            Line(unmapped, "E3", 4, NOV, NOV_30),
        ],
    )

    run = world.sync(invoice)

    assert run.status == "SUCCESS"
    codes = {(i.sku and i.sku.split("-")[0], i.outcome, i.code) for i in world.items(run.id)}
    assert ("VISIO", "SKIPPED", "ANNUAL_SKIPPED") in codes
    assert ("E3", "SKIPPED", "NOT_SYNCED_KIND") in codes
    assert ("AZURE", "SKIPPED", "USAGE_SYNC_OFF") in codes
    assert ("E3", "SKIPPED", "CUSTOMER_NOT_SYNCED") in codes
    assert world.month_units(customer, "VISIO", NOV) == [0] * 30
    assert world.month_units(unmapped, "E3", NOV) == [0] * 30
    assert world.month_units(customer, "E3", NOV) == [5] * 30


def test_azure_usage_is_one_unit_at_the_months_price_then_zero_next_month(
    psa_world: World,
) -> None:
    psa_world.settings(sync_azure_usage=True)
    customer = psa_world.customer()
    usage = Line(
        customer, "AZURE", "120.5", NOV, NOV_30, kind=LineKind.USAGE, term=None, price="0.10"
    )

    run = psa_world.sync(psa_world.invoice(NOV, [usage]))

    assert run.status == "SUCCESS"
    assert psa_world.month_units(customer, "AZURE", NOV) == [1] * 30
    assert psa_world.units_on(customer, "AZURE", DEC) == 0
    price = psa_world.side.unit_price_on(
        psa_world.contracts[customer], psa_world.service_id("AZURE"), NOV
    )
    assert price == pytest.approx(12.05)


def test_each_contract_error_is_an_item_while_other_customers_sync(psa_world: World) -> None:
    side = psa_world.side
    good = psa_world.customer()
    start = date(2025, 1, 1)
    inactive = psa_world.customer(contract=side.add_contract(start=start, end=None, usable=False))
    not_recurring = psa_world.customer(
        contract=side.add_contract(start=start, end=None, recurring=False)
    )
    ended = psa_world.customer(contract=side.add_contract(start=start, end=date(2026, 11, 10)))
    invoice = psa_world.invoice(
        NOV,
        [
            Line(good, "E3", 5, NOV, NOV_30),
            Line(inactive, "E3", 5, NOV, NOV_30),
            Line(not_recurring, "E3", 5, NOV, NOV_30),
            Line(ended, "E3", 5, NOV, date(2026, 11, 14)),
            Line(ended, "E3", 7, date(2026, 11, 15), NOV_30),
            Line(good, "NO-SUCH-SKU", 1, NOV, NOV_30),
        ],
    )

    run = psa_world.sync(invoice)

    assert run.status == "FAILURE"
    assert psa_world.month_units(good, "E3", NOV) == [5] * 30
    by_customer = {
        i.customer_id: i
        for i in psa_world.items(run.id)
        if i.sku is None and i.subscription_id is None
    }
    assert by_customer[inactive].outcome == "ERROR"
    codes = {(i.customer_id, i.code) for i in psa_world.items(run.id) if i.code}
    assert (inactive, "CONTRACT_NOT_USABLE") in codes
    assert (not_recurring, "CONTRACT_NOT_USABLE") in codes
    assert (ended, "DATE_OUTSIDE_CONTRACT") in codes
    assert (good, "PRODUCT_NOT_FOUND") in codes
    assert run.customers_failed == 4
    unusable = [
        i.message or ""
        for i in psa_world.items(run.id)
        if i.customer_id in (inactive, not_recurring) and i.code == "CONTRACT_NOT_USABLE"
    ]
    assert unusable and all(side.words.unusable_contract in m for m in unusable)
    messages = " ".join(i.message or "" for i in psa_world.items(run.id))
    assert "product sync" in messages
    other = "Recurring Service" if side.kind is PsaKind.CONNECTWISE else "agreement"
    assert other not in messages  # in the PSA's own words, not the other's


def test_a_refusal_of_the_psa_while_writing_is_an_item_with_its_action(
    psa_world: World,
) -> None:
    first, second = psa_world.customer(), psa_world.customer()
    invoice = psa_world.invoice(
        NOV, [Line(first, "E3", 5, NOV, NOV_30), Line(second, "E3", 3, NOV, NOV_30)]
    )
    psa_world.side.refuse_next_write(psa_world.contracts[first])

    run = psa_world.sync(invoice)

    assert run.status == "FAILURE"
    item = next(i for i in psa_world.items(run.id) if i.customer_id == first and i.sku)
    assert item.code == "DATE_OUTSIDE_CONTRACT"
    assert psa_world.side.words.review_dates in (item.message or "")
    assert psa_world.month_units(second, "E3", NOV) == [3] * 30


def test_unauthorized_fails_the_run_marks_the_connection_and_mails_the_status(
    psa_world: World,
) -> None:
    customer = psa_world.customer()
    invoice = psa_world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)])
    psa_world.side.lock_out()

    run = psa_world.sync(invoice)

    assert run.status == "FAILURE"
    item = next(i for i in psa_world.items(run.id) if i.sku)
    assert item.code == "UNAUTHORIZED"
    words = psa_world.side.words
    with Session(psa_world.engine) as session:
        connection = session.scalar(
            select(PsaConnection).where(PsaConnection.partner_id == psa_world.partner)
        )
        assert connection is not None and connection.status == "FAILING"
        assert connection.problem == words.locked_problem
        assert words.locked_action in (connection.status_message or "")
        mails = session.scalars(
            select(MailMessage).where(
                MailMessage.idempotency_key == f"sync:invoice-run:{run.id}:failed"
            )
        ).all()
    assert len(mails) == 1
    assert f"/psa-sync/invoice-runs/{run.id}" in mails[0].text_body
    assert mails[0].to_addresses == ["ops@partner.example"]


def test_sync_turned_off_for_a_customer_writes_nothing_and_on_again_is_safe(
    world: World,
) -> None:
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)])
    world.map_customer(customer, sync_enabled=False)

    off = world.sync(invoice)
    assert off.status == "NO_CHANGE" and world.writes()[-1:] != ["POST"]
    assert world.month_units(customer, "E3", NOV) == [0] * 30

    world.map_customer(customer, sync_enabled=True)
    on = world.sync(invoice)
    again = world.sync(invoice)
    assert on.status == "SUCCESS" and again.status == "NO_CHANGE"
    assert world.month_units(customer, "E3", NOV) == [5] * 30


def test_a_security_level_refusal_names_its_cause_on_the_connection(psa_world: World) -> None:
    customer = psa_world.customer()
    invoice = psa_world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)])
    psa_world.side.deny_writes()

    run = psa_world.sync(invoice)

    assert run.status == "FAILURE"
    item = next(i for i in psa_world.items(run.id) if i.sku)
    assert item.code == "UNAUTHORIZED" and psa_world.side.words.security in (item.message or "")
    with Session(psa_world.engine) as session:
        connection = session.scalar(
            select(PsaConnection).where(PsaConnection.partner_id == psa_world.partner)
        )
    assert connection is not None
    assert (connection.status, connection.problem) == ("FAILING", "PERMISSION_DENIED")


def test_the_safety_check_request_syncs_an_invoice_whose_event_never_arrived(
    world: World,
) -> None:
    customer = world.customer()
    month = date.today().replace(day=1)  # within the safety check's look-back
    world.invoice(month, [Line(customer, "E3", 5, month, month_end(month))])
    check = InvoiceSyncRequested(
        aggregate_id=str(world.program),
        partner_id=world.partner,
        program_id=world.program,
        trigger=SyncTrigger.SAFETY_CHECK.value,
    ).envelope()

    process_event(world.engine, check.to_dict(), invoice_handlers(world.side.config(), Links()))

    assert set(world.month_units(customer, "E3", month)) == {5}


def test_the_scheduled_safety_check_syncs_an_unsynced_invoice_once_however_often_delivered(
    world: World,
) -> None:
    customer = world.customer()
    month = date.today().replace(day=1)  # within the safety check's look-back
    world.invoice(month, [Line(customer, "E3", 5, month, month_end(month))])
    due = InvoiceSyncSafetyCheckDue.for_slot(datetime(2026, 11, 29, 10, tzinfo=UTC))
    handlers = invoice_handlers(world.side.config(), Links())

    for _ in range(2):  # redelivered, or staged by two relays: the same event id
        process_event(world.engine, due.envelope().to_dict(), handlers)

    assert set(world.month_units(customer, "E3", month)) == {5}
    with Session(world.engine) as session:
        runs = session.scalars(select(InvoiceSyncRun)).all()
    assert [(r.trigger, r.status) for r in runs] == [("SAFETY_CHECK", "SUCCESS")]


def test_program_sync_turned_off_after_planning_stops_the_writes(world: World) -> None:
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)])
    run_id = world.start(invoice)
    sync = world.syncer()
    psa = sync.open_psa(world.partner, world.program)
    sync.plan(run_id, psa)
    psa.close()

    world.settings(sync_enabled=False)  # S9: off at any time
    status = sync.drive(run_id)

    assert status == "NO_CHANGE"
    assert world.writes() == []
    item = next(i for i in world.items(run_id) if i.sku)
    assert item.outcome == "SKIPPED" and "turned off" in (item.message or "")


def test_no_run_is_recorded_for_a_program_whose_sync_is_off(world: World) -> None:
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 5, NOV, NOV_30)])
    world.settings(sync_enabled=False)
    handlers = invoice_handlers(world.side.config(), Links())
    event = InvoiceSyncRequested(
        aggregate_id=str(world.program),
        partner_id=world.partner,
        program_id=world.program,
        invoice_id=invoice,
    ).envelope()

    process_event(world.engine, event.to_dict(), handlers)

    with Session(world.engine) as session:
        assert session.scalars(select(InvoiceSyncRun)).all() == []
    assert world.writes() == []
