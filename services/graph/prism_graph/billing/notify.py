"""C5: an issued invoice is mailed to the partner's BILLING contacts with its PDF attached
(`billing.files.invoice_pdf`, the same file as the API's `Invoice.pdf`), in the transaction
that issues it (through the contacts package and the mail outbox)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.invoicing import Invoice
from prism_graph.contacts import notify
from prism_graph.contacts.accounts import AccountRef
from prism_graph.mail.outbox import Attachment


async def notify_invoice_issued(
    session: AsyncSession,
    invoice: Invoice,
    *,
    number: str,
    program_name: str,
    pdf: Attachment,
    due_date: date,
) -> int:
    """Mails enqueued (0 when the partner has no BILLING contact yet)."""
    return await notify.notify_invoice_issued(
        session,
        AccountRef(organisation_id=int(invoice.partner_id)),
        invoice_id=invoice.id,
        invoice_number=number,
        program_name=program_name,
        period_start=invoice.period.start,
        period_end=invoice.period.end,
        total=invoice.total.amount,
        currency=invoice.currency,
        due_date=due_date,
        document=pdf,
    )
