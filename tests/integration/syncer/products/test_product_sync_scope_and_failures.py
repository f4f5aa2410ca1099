"""S3 and S7 on both PSAs (`psa_side`): which products a sync takes (IN_USE mode, retired
products, disabled programs), refused credentials, a lost answer, a burst of changes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectwise_sim.seed import AGREEMENT_ID
from prism_domain.catalogue import ProductPriceChanged
from prism_domain.sync import PsaKind, SyncTrigger
from prism_syncer.products.handlers import product_handlers, run_product_sync
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.customers import Customer
from prism_tables.sync.connections import CustomerMapping, PsaConnection
from prism_tables.sync.products import ProductSyncRun
from tests.integration.syncer.products.support import (
    change_stored_secret,
    clear_log,
    items,
    lock_out_api_user,
    lose_next_create_answer,
    reads,
    run,
    services,
    settings,
    sku,
    write_answers,
    writes,
)
from tests.support.psa import add_product
from tests.support.sides import PsaSide

pytestmark = pytest.mark.integration


def test_in_use_mode_syncs_only_products_on_the_invoices_of_synced_customers(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    settings(sync_engine, partner, program, product_sync_mode="IN_USE")
    used, unused, unmapped, off = sku(), sku(), sku(), sku()
    for code in (used, unused, unmapped, off):
        add_product(sync_engine, program, code)
    add_invoice_line(sync_engine, psa_side, partner, program, used)
    add_invoice_line(sync_engine, psa_side, partner, program, unmapped, mapping=None)  # S4
    add_invoice_line(sync_engine, psa_side, partner, program, off, mapping=False)  # S9: off

    run(sync_engine, psa_side, partner, program)

    names = services(psa_side)
    assert f"PC_{used}" in names
    assert not {f"PC_{unused}", f"PC_{unmapped}", f"PC_{off}"} & names.keys()


def test_a_retired_product_still_invoiced_asks_for_a_mapping_by_hand(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code, retired=True)
    add_invoice_line(sync_engine, psa_side, partner, program, code)

    result = run(sync_engine, psa_side, partner, program)

    item = items(sync_engine, result.id)[code]
    assert item.outcome == "ERROR" and "map the product to it by hand" in (item.message or "")
    assert f"PC_{code}" not in services(psa_side)
    assert writes(psa_side) == []


#: What the message of a run whose credentials were refused tells the partner to check.
WRONG_SECRET_SAYS = {
    PsaKind.AUTOTASK: "uncheck Locked",  # the checks listed include the user's Locked box
    PsaKind.CONNECTWISE: "(System > Members > API Members) with those keys",
}


def test_a_wrong_secret_fails_the_run_with_the_unauthorised_action(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    change_stored_secret(sync_engine, partner, "changed-since")
    add_product(sync_engine, program, sku())

    result = run(sync_engine, psa_side, partner, program)

    assert result.status == "FAILURE"
    assert WRONG_SECRET_SAYS[psa_side.kind] in (result.message or "")
    with Session(sync_engine) as session:
        connection = session.scalars(select(PsaConnection)).one()
    assert (connection.status, connection.problem) == ("FAILING", "WRONG_SECRET")
    assert connection.status_message == result.message
    assert writes(psa_side) == []


#: How each PSA refuses an API user shut out after connecting (`lock_out_api_user`): the
#: connection's problem and what the message says. ConnectWise shows no locked member in
#: its answers: one refused the product catalog by its security role gets a 403.
LOCKED_OUT = {
    PsaKind.AUTOTASK: ("USER_LOCKED", ("the API user is locked", "uncheck Locked")),
    PsaKind.CONNECTWISE: (
        "PERMISSION_DENIED",
        ("security role", "Procurement > Product Catalog with Add-Level and Edit-Level"),
    ),
}


def test_an_api_user_locked_out_after_connecting_fails_the_run_and_the_connection_says_why(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    add_product(sync_engine, program, sku())
    lock_out_api_user(psa_side)

    result = run(sync_engine, psa_side, partner, program)

    problem, says = LOCKED_OUT[psa_side.kind]
    assert result.status == "FAILURE"
    for words in says:
        assert words in (result.message or "")
    with Session(sync_engine) as session:
        connection = session.scalars(select(PsaConnection)).one()
    assert (connection.status, connection.problem) == ("FAILING", problem)
    assert connection.status_message == result.message
    assert writes(psa_side) == []


def test_a_disabled_program_is_not_synced(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    settings(sync_engine, partner, program, sync_enabled=False)
    add_product(sync_engine, program, sku())
    before = services(psa_side)
    clear_log(psa_side)

    with Session(sync_engine) as session, session.begin():
        assert (
            run_product_sync(session, psa_side.config(), partner, program, SyncTrigger.MANUAL)
            is None
        )
    assert services(psa_side) == before
    assert (reads(psa_side), writes(psa_side)) == ([], [])


#: The contract (ConnectWise: agreement) an invoiced customer is mapped to; the product
#: sync reads only that the mapping exists and is synced.
MAPPED_CONTRACT = {PsaKind.AUTOTASK: 29683001, PsaKind.CONNECTWISE: AGREEMENT_ID}


def add_invoice_line(
    engine: Engine,
    side: PsaSide,
    partner: int,
    program: int,
    code: str,
    *,
    mapping: bool | None = True,
) -> None:
    """An invoice line of `code` for a new customer, mapped to a contract of the side's PSA
    with sync on (`mapping=True`), off (False), or not mapped (None)."""
    with Session(engine) as session, session.begin():
        customer = Customer(
            owner_id=partner,
            name=f"C {uuid.uuid4().hex[:6]}",
            name_key=uuid.uuid4().hex,
            domain=None,
            status="ACTIVE",
        )
        session.add(customer)
        session.flush()
        invoice = Invoice(
            key=uuid.uuid4().hex,
            partner_id=partner,
            program_id=program,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            currency="AUD",
            total=Decimal("9.00"),
        )
        session.add(invoice)
        session.flush()
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=1,
                customer_id=customer.id,
                sku=code,
                kind="SUBSCRIPTION",
                billing_term="MONTHLY",
                period_start=date(2026, 1, 1),
                period_end=date(2026, 1, 31),
                quantity=Decimal(1),
                unit_cost=Decimal("8.10"),
                unit_price=Decimal("9.00"),
                amount=Decimal("9.00"),
            )
        )
        if mapping is not None:
            session.add(
                CustomerMapping(
                    partner_id=partner,
                    program_id=program,
                    customer_id=customer.id,
                    psa=side.kind.value,
                    company_id=side.mapped_company()[0],
                    company_name=side.mapped_company()[1],
                    contract_id=MAPPED_CONTRACT[side.kind],
                    contract_name="Managed Services",
                    sync_enabled=mapping,
                )
            )


def test_a_create_whose_answer_is_lost_is_found_by_name_and_linked_not_repeated(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code)
    # the PSA creates the service, then the answer is lost (502)
    lose_next_create_answer(psa_side)
    clear_log(psa_side)

    result = run(sync_engine, psa_side, partner, program)

    matching = [name for name in services(psa_side) if name == f"PC_{code}"]
    assert matching == [f"PC_{code}"]
    # the create was sent once, its answer lost, and never repeated
    assert [(w.split()[0], status) for w, status in write_answers(psa_side)] == [("POST", 502)]
    assert (result.status, result.created) == ("SUCCESS", 1)
    again = run(sync_engine, psa_side, partner, program)
    assert again.status == "NO_CHANGE"


def test_a_burst_of_price_changes_costs_one_run(
    sync_engine: Engine, psa_side: PsaSide, partner: int, program: int
) -> None:
    products = [add_product(sync_engine, program, sku()) for _ in range(3)]
    handle = product_handlers(psa_side.config())[ProductPriceChanged.type]
    changed_at = datetime.now(UTC)
    events = [
        ProductPriceChanged(
            aggregate_id=str(p),
            occurred_at=changed_at,
            program_id=program,
            sku="x",
            currency="AUD",
            effective_from="2026-01-01",
            old_buy_price=None,
            old_rrp=None,
            new_buy_price="8.10",
            new_rrp="9.00",
        ).envelope()
        for p in products
    ]

    for envelope in events:
        with Session(sync_engine) as session, session.begin():
            handle(session, envelope)

    with Session(sync_engine) as session:
        runs = session.scalars(select(ProductSyncRun.trigger)).all()
    assert runs == ["PRICE_CHANGED"]
    assert len([n for n in services(psa_side) if n.startswith("PC_")]) == 3
