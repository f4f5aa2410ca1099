"""The files an issued invoice is rendered to, from what is stored of it (C5).

`invoice_pdf` is the PDF the BILLING mail attaches (`billing.run`) and the API serves
(`Invoice.pdf`): one function of the stored invoice, its lines and the names on it, so the
two are the same bytes. The billing run renders it from the rows as read back inside the
transaction that issues the invoice, exactly as a later request reads them. `invoice_csv` is
the same lines as CSV (`Invoice.csv`), for spreadsheets and PSA imports; it is never mailed.

What an invoice names (its partner, program and customers) is read when it is rendered: a
name changed after the invoice was issued shows in a later rendering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import Invoice, InvoiceLine, LineKind
from prism_domain.money import Money, exact_amount
from prism_domain.periods import Period
from prism_graph.billing import document, pdf
from prism_graph.common.decimals import fixed
from prism_graph.mail.outbox import Attachment
from prism_tables import billing as models
from prism_tables.catalogue import Program
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation

PAYMENT_TERMS_DAYS = 30


@dataclass(frozen=True)
class Names:
    """Who and what an invoice names, as the reader of the file sees them."""

    partner: str
    program: str
    customers: Mapping[int, str]


@dataclass(frozen=True, slots=True)
class StoredLine:
    """An invoice line as its row holds it, without the ORM object: what the billing run reads
    back of the thousands of lines it has just written (`read_back`)."""

    customer_id: int
    subscription_id: int | None
    sku: str | None
    kind: LineKind
    billing_term: BillingTerm | None
    period_start: date
    period_end: date
    quantity: Decimal
    unit_cost: Decimal
    unit_price: Decimal
    amount: Decimal
    description: str


_STORED = tuple(getattr(models.InvoiceLine, name) for name in StoredLine.__dataclass_fields__)
Line = models.InvoiceLine | StoredLine


def number(row: models.Invoice) -> str:
    return document.invoice_number(row.period_start, row.id)


def due_date(row: models.Invoice) -> date:
    return row.issued_at.date() + timedelta(days=PAYMENT_TERMS_DAYS)


def to_domain(row: models.Invoice, lines: Sequence[Line]) -> Invoice:
    """The stored invoice as the domain's, amounts as the API shows them."""
    currency = row.currency
    # The same few amounts and quantities repeat over thousands of lines: each distinct value
    # is converted once. Equal values convert alike, but for the sign of a zero, not cached.
    amounts: dict[Decimal, Money] = {}
    quantities: dict[Decimal, Decimal] = {}

    def money(value: Decimal) -> Money:
        if not value:
            return Money(exact_amount(value, currency), currency)
        if (known := amounts.get(value)) is None:
            known = amounts[value] = Money(exact_amount(value, currency), currency)
        return known

    def quantity(value: Decimal) -> Decimal:
        if not value:
            return fixed(value)
        if (known := quantities.get(value)) is None:
            known = quantities[value] = fixed(value)
        return known

    return Invoice(
        id=row.id,
        partner_id=row.partner_id,
        program_id=row.program_id,
        period=Period(row.period_start, row.period_end),
        currency=currency,
        lines=tuple(
            InvoiceLine(
                customer_id=line.customer_id,
                subscription_id=line.subscription_id,
                sku=line.sku,
                kind=line.kind,
                billing_term=line.billing_term,
                period=Period(line.period_start, line.period_end),
                quantity=quantity(line.quantity),
                unit_cost=money(line.unit_cost),
                unit_price=money(line.unit_price),
                amount=money(line.amount),
                description=line.description,
            )
            for line in lines
        ),
    )


def invoice_pdf(row: models.Invoice, lines: Sequence[Line], names: Names) -> Attachment:
    """The invoice as the PDF file the BILLING mail attaches."""
    invoice_number = number(row)
    content = pdf.render_pdf(
        number=invoice_number,
        partner=names.partner,
        program=names.program,
        invoice=to_domain(row, lines),
        customer_names=names.customers,
        issued_at=row.issued_at,
        due_date=due_date(row),
    )
    return Attachment(f"{invoice_number}.pdf", pdf.CONTENT_TYPE, content)


def invoice_csv(row: models.Invoice, lines: Sequence[Line], names: Names) -> str:
    """The invoice's lines and total as CSV text."""
    return document.render_csv(
        number=number(row),
        partner=names.partner,
        program=names.program,
        invoice=to_domain(row, lines),
        customer_names=names.customers,
    ).decode()


async def read_back(session: AsyncSession, row: models.Invoice) -> tuple[list[StoredLine], Names]:
    """The invoice's lines and names as the database holds them now, in `session` (the
    billing run's, after it wrote them): what a later request renders from."""
    await session.refresh(row)
    of_invoice = models.InvoiceLine.invoice_id == row.id
    connection = await session.connection()  # Core: no ORM processing of thousands of rows
    lines = [
        StoredLine(*values)
        for values in await connection.execute(
            select(*_STORED).where(of_invoice).order_by(models.InvoiceLine.position)
        )
    ]
    partner = await session.get(Organisation, row.partner_id)
    program = await session.get(Program, row.program_id)
    customers = await connection.execute(
        select(Customer.id, Customer.name).where(
            Customer.id.in_(select(models.InvoiceLine.customer_id).where(of_invoice))
        )
    )
    return lines, Names(
        partner=partner.name if partner else "",
        program=program.name if program else "",
        customers={int(pk): str(name) for pk, name in customers.all()},
    )
