"""S3 and S7 against the Autotask simulator: which products a sync takes (IN_USE mode,
retired products, disabled programs), refused credentials, a lost answer, a burst of changes."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from prism_domain.sync import SyncTrigger
from prism_syncer.products.handlers import run_product_sync
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.sync.connections import PsaConnection
from prism_tables.sync.products import ProductSyncRun
from tests.integration.syncer.products.support import items, run, services, sku
from tests.support.psa import (
    add_partner,
    add_product,
    add_program,
    configure,
    connect,
    psa_config,
)

pytestmark = pytest.mark.integration


def test_in_use_mode_syncs_only_products_on_the_invoices_of_synced_customers(
    sync_engine: Engine, autotask: SimHandle, partner: int
) -> None:
    program = add_program(sync_engine)
    configure(sync_engine, partner, program, mode="IN_USE")
    used, unused, unmapped, off = sku(), sku(), sku(), sku()
    for code in (used, unused, unmapped, off):
        add_product(sync_engine, program, code)
    add_invoice_line(sync_engine, partner, program, used)
    add_invoice_line(sync_engine, partner, program, unmapped, mapping=None)  # S4: not mapped
    add_invoice_line(sync_engine, partner, program, off, mapping=False)  # S9: sync off

    run(sync_engine, autotask, partner, program)

    names = services(autotask)
    assert f"PC_{used}" in names
    assert not {f"PC_{unused}", f"PC_{unmapped}", f"PC_{off}"} & names.keys()


def test_a_retired_product_still_invoiced_asks_for_a_mapping_by_hand(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    code = sku()
    add_product(sync_engine, program, code, retired=True)
    add_invoice_line(sync_engine, partner, program, code)

    result = run(sync_engine, autotask, partner, program)

    item = items(sync_engine, result.id)[code]
    assert item.outcome == "ERROR" and "map the product to it by hand" in (item.message or "")
    assert f"PC_{code}" not in services(autotask)


def test_a_wrong_secret_fails_the_run_with_the_unauthorised_action(
    sync_engine: Engine, autotask: SimHandle, database_url: str
) -> None:
    partner = add_partner(sync_engine)
    connect(sync_engine, partner, secret="changed-since")
    program = add_program(sync_engine)
    configure(sync_engine, partner, program)
    add_product(sync_engine, program, sku())

    result = run(sync_engine, autotask, partner, program)

    assert result.status == "FAILURE"
    assert "uncheck Locked" in (result.message or "")
    with Session(sync_engine) as session:
        connection = session.scalars(select(PsaConnection)).one()
    assert (connection.status, connection.problem) == ("FAILING", "WRONG_SECRET")
    assert connection.status_message == result.message


def test_a_locked_api_user_fails_the_run_and_the_connection_says_locked(
    sync_engine: Engine, autotask: SimHandle, database_url: str
) -> None:
    partner = add_partner(sync_engine)
    connect(sync_engine, partner)
    program = add_program(sync_engine)
    configure(sync_engine, partner, program)
    add_product(sync_engine, program, sku())
    autotask.sim.lock_user()

    result = run(sync_engine, autotask, partner, program)

    assert result.status == "FAILURE"
    assert "the API user is locked" in (result.message or "")
    assert "uncheck Locked" in (result.message or "")
    with Session(sync_engine) as session:
        connection = session.scalars(select(PsaConnection)).one()
    assert (connection.status, connection.problem) == ("FAILING", "USER_LOCKED")
    assert connection.status_message == result.message


def test_a_disabled_program_is_not_synced(
    sync_engine: Engine, autotask: SimHandle, partner: int
) -> None:
    program = add_program(sync_engine)
    configure(sync_engine, partner, program, enabled=False)
    add_product(sync_engine, program, sku())

    with Session(sync_engine) as session, session.begin():
        assert (
            run_product_sync(session, psa_config(autotask), partner, program, SyncTrigger.MANUAL)
            is None
        )
    assert services(autotask).keys() == {"Desktop Maintenance"}


def add_invoice_line(
    engine: Engine, partner: int, program: int, code: str, *, mapping: bool | None = True
) -> None:
    """An invoice line of `code` for a new customer, mapped to a PSA contract with sync on
    (`mapping=True`), off (False), or not mapped (None)."""
    from decimal import Decimal

    from prism_tables.customers import Customer
    from prism_tables.sync.connections import CustomerMapping

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
                    company_id=175,
                    company_name="Contoso Pty Ltd",
                    contract_id=29683001,
                    contract_name="Contoso Managed Services",
                    sync_enabled=mapping,
                )
            )


def test_a_create_whose_answer_is_lost_is_found_by_name_and_linked_not_repeated(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    from autotask_sim import Fault

    code = sku()
    add_product(sync_engine, program, code)
    # Autotask creates the service, then the answer is lost (502)
    autotask.sim.add_fault(Fault("lost_response", method="POST", path=r"/Services$", status=502))

    result = run(sync_engine, autotask, partner, program)

    matching = [name for name in services(autotask) if name == f"PC_{code}"]
    assert matching == [f"PC_{code}"]
    assert (result.status, result.created) == ("SUCCESS", 1)
    again = run(sync_engine, autotask, partner, program)
    assert again.status == "NO_CHANGE"


def test_a_burst_of_price_changes_costs_one_run(
    sync_engine: Engine, autotask: SimHandle, partner: int, program: int
) -> None:
    from datetime import UTC, datetime

    from prism_domain.catalogue import ProductPriceChanged
    from prism_syncer.products.handlers import product_handlers

    products = [add_product(sync_engine, program, sku()) for _ in range(3)]
    handle = product_handlers(psa_config(autotask))[ProductPriceChanged.type]
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
    assert len([n for n in services(autotask) if n.startswith("PC_")]) == 3
