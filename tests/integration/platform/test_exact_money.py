"""Money is exact in the API's tables on every backend, and the syncer reads it as Decimals.

On SQLite a NUMERIC column used to make a REAL of every value (15 significant digits), and the
syncer's untyped reads got floats; these tests fail on either.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_domain.catalogue import BillingTerm
from prism_domain.customers import CustomerStatus
from prism_domain.invoicing import LineKind
from prism_psa.invoices import sources as invoice_sources
from prism_psa.products import sources as product_sources
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.catalogue import ProductPrice
from prism_tables.customers import Customer
from tests.support.psa import add_partner, add_product, add_program

pytestmark = pytest.mark.integration

BIG = Decimal("12345678901234.123456")  # 20 significant digits; a double keeps about 16
TENTH, FIFTH = Decimal("0.1"), Decimal("0.2")


def add_invoice(engine: Engine, partner: int, program: int) -> tuple[int, int]:
    with Session(engine) as session, session.begin():
        name = f"Customer {uuid.uuid4().hex[:8]}"
        customer = Customer(
            owner_id=partner, name=name, name_key=name.casefold(), status=CustomerStatus.ACTIVE
        )
        session.add(customer)
        session.flush()
        invoice = Invoice(
            key=f"inv-{uuid.uuid4().hex}",
            partner_id=partner,
            program_id=program,
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            currency="AUD",
            total=BIG + TENTH + FIFTH,
        )
        session.add(invoice)
        session.flush()
        for position, (unit_cost, unit_price, amount) in enumerate(
            [(BIG, BIG, BIG), (TENTH, FIFTH, TENTH + FIFTH)]
        ):
            session.add(
                InvoiceLine(
                    invoice_id=invoice.id,
                    position=position,
                    customer_id=customer.id,
                    sku="SKU-A",
                    kind=LineKind.SUBSCRIPTION,
                    billing_term=BillingTerm.MONTHLY,
                    period_start=date(2026, 11, 1),
                    period_end=date(2026, 11, 30),
                    quantity=Decimal("1"),
                    unit_cost=unit_cost,
                    unit_price=unit_price,
                    amount=amount,
                )
            )
        return invoice.id, customer.id


def test_money_round_trips_exactly_through_the_api_tables(
    database_url: str, sync_engine: Engine
) -> None:
    # given an invoice whose amounts need 20 digits, or are 0.1 + 0.2
    partner, program = add_partner(sync_engine), add_program(sync_engine)
    invoice_id, _ = add_invoice(sync_engine, partner, program)

    # when it is read back
    with Session(sync_engine) as session:
        total = session.scalar(select(Invoice.total).where(Invoice.id == invoice_id))
        lines = session.execute(
            select(InvoiceLine.unit_cost, InvoiceLine.unit_price, InvoiceLine.amount)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        ).all()
        # equality in SQL works too: the bound value is written the way the column holds it
        found = session.scalar(
            select(InvoiceLine.position).where(
                InvoiceLine.invoice_id == invoice_id, InvoiceLine.amount == Decimal("0.30")
            )
        )
        on_sqlite = sync_engine.dialect.name == "sqlite"
        stored_as = (
            session.scalar(select(func.typeof(Invoice.total)).where(Invoice.id == invoice_id))
            if on_sqlite
            else None
        )

    # then every digit is there, in Decimals, and SQLite keeps text (never a REAL)
    assert total == Decimal("12345678901234.423456")
    assert [tuple(row) for row in lines] == [(BIG, BIG, BIG), (TENTH, FIFTH, Decimal("0.3"))]
    assert all(isinstance(value, Decimal) for row in lines for value in row)
    assert found == 1
    assert stored_as == ("text" if on_sqlite else None)


def test_the_syncer_reads_invoice_money_as_decimals(database_url: str, sync_engine: Engine) -> None:
    partner, program = add_partner(sync_engine), add_program(sync_engine)
    invoice_id, customer = add_invoice(sync_engine, partner, program)

    with Session(sync_engine) as session:
        lines = invoice_sources.lines_of(session, invoice_id, customer)

    assert [(ln.unit_cost, ln.unit_price, ln.amount) for ln in lines] == [
        (BIG, BIG, BIG),
        (TENTH, FIFTH, Decimal("0.3")),
    ]


def test_the_syncer_reads_prices_as_decimals(database_url: str, sync_engine: Engine) -> None:
    program = add_program(sync_engine)
    product = add_product(sync_engine, program, "SKU-BIG", buy=str(BIG), rrp="0.3")

    with Session(sync_engine) as session:
        [item] = product_sources.price_list(session, program, date(2026, 6, 1))
        rrp_in_sql = session.scalar(
            select(ProductPrice.product_id).where(ProductPrice.rrp == TENTH + FIFTH)
        )

    assert (item.buy_price, item.rrp) == (BIG, Decimal("0.3"))
    assert isinstance(item.buy_price, Decimal) and isinstance(item.rrp, Decimal)
    assert rrp_in_sql == product
