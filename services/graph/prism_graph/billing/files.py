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

from prism_domain.invoicing import Invoice, InvoiceLine
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


def number(row: models.Invoice) -> str:
    return document.invoice_number(row.period_start, row.id)


def due_date(row: models.Invoice) -> date:
    return row.issued_at.date() + timedelta(days=PAYMENT_TERMS_DAYS)


def to_domain(row: models.Invoice, lines: Sequence[models.InvoiceLine]) -> Invoice:
    """The stored invoice as the domain's, amounts as the API shows them."""
    currency = row.currency

    def money(value: Decimal) -> Money:
        return Money(exact_amount(value, currency), currency)

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
                quantity=fixed(line.quantity),
                unit_cost=money(line.unit_cost),
                unit_price=money(line.unit_price),
                amount=money(line.amount),
                description=line.description,
            )
            for line in lines
        ),
    )


def invoice_pdf(
    row: models.Invoice, lines: Sequence[models.InvoiceLine], names: Names
) -> Attachment:
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


def invoice_csv(row: models.Invoice, lines: Sequence[models.InvoiceLine], names: Names) -> str:
    """The invoice's lines and total as CSV text."""
    return document.render_csv(
        number=number(row),
        partner=names.partner,
        program=names.program,
        invoice=to_domain(row, lines),
        customer_names=names.customers,
    ).decode()


async def read_back(
    session: AsyncSession, row: models.Invoice
) -> tuple[list[models.InvoiceLine], Names]:
    """The invoice's lines and names as the database holds them now, in `session` (the
    billing run's, after it flushed them): what a later request renders from."""
    await session.refresh(row)
    lines = list(
        await session.scalars(
            select(models.InvoiceLine)
            .where(models.InvoiceLine.invoice_id == row.id)
            .order_by(models.InvoiceLine.position)
            .execution_options(populate_existing=True)
        )
    )
    partner = await session.get(Organisation, row.partner_id)
    program = await session.get(Program, row.program_id)
    customers = await session.execute(
        select(Customer.id, Customer.name).where(
            Customer.id.in_({line.customer_id for line in lines})
        )
    )
    return lines, Names(
        partner=partner.name if partner else "",
        program=program.name if program else "",
        customers={int(pk): str(name) for pk, name in customers.all()},
    )
