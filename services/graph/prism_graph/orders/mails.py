"""The two mails a submit enqueues, in its unit of work (O5, O6): the addendum to the MSP that
ordered, and the RFI link to the customer's implementation lead. Their idempotency keys name
the order, so a submit that is retried mails nobody twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.contacts import ContactType
from prism_domain.orders import OrderQuote
from prism_graph.mail.outbox import Attachment, MailSignal, enqueue
from prism_graph.mail.templates import compose
from prism_graph.orders import pdf
from prism_tables.contacts import AccountContact, AccountContactType, AccountContactTypeMember
from prism_tables.orders import Order
from prism_tables.organisations import Organisation


async def _billing_contacts(session: AsyncSession, organisation_id: int) -> list[str]:
    rows = await session.scalars(
        select(AccountContact.email)
        .join(AccountContactTypeMember, AccountContactTypeMember.contact_id == AccountContact.id)
        .join(AccountContactType, AccountContactType.id == AccountContactTypeMember.contact_type_id)
        .where(
            AccountContactType.organisation_id == organisation_id,
            AccountContactType.type == ContactType.BILLING,
        )
        .order_by(AccountContact.id)
    )
    return sorted(set(rows))


async def mail_addendum(
    session: AsyncSession,
    order: Order,
    facts: pdf.AddendumFacts,
    quote: OrderQuote,
    owner: Organisation,
    submitter_email: str | None,
    addendum: Attachment,
    wake: MailSignal | None,
) -> None:
    """O5: the addendum to the MSP that submitted: the submitting user; an API client has no
    mailbox, so then the partner's BILLING contacts (who receive its invoices too)."""
    recipients = (
        [submitter_email] if submitter_email else await _billing_contacts(session, owner.id)
    )
    if not recipients:
        return  # nobody to mail: the addendum is still on the customer's attachments
    await enqueue(
        session,
        compose(
            "order_submitted",
            to=recipients,
            idempotency_key=f"order:{order.id}:submitted:msp",
            attachments=[addendum],
            msp_name=facts.msp_name,
            company_name=facts.company_name,
            order_reference=facts.reference,
            order_number=facts.order_number,
            start_date=quote.start_date,
            permitted_users=quote.permitted_users,
            currency=facts.currency,
            ongoing_monthly_payment=quote.ongoing_monthly_payment.amount,
            one_time_fees=quote.one_time_fees.amount,
            first_payment=quote.first_payment.amount,
            implementation_lead=facts.implementation_lead,
        ),
        wake=wake,
    )


async def mail_rfi_link(
    session: AsyncSession,
    order: Order,
    facts: pdf.AddendumFacts,
    link: str,
    expires_at: datetime,
    wake: MailSignal | None,
) -> None:
    """O6: the RFI link to the customer's implementation lead."""
    await enqueue(
        session,
        compose(
            "rfi_requested",
            to=[order.implementation_lead_email or ""],
            idempotency_key=f"order:{order.id}:rfi:lead",
            lead_name=order.implementation_lead_name,
            msp_name=facts.msp_name,
            company_name=facts.company_name,
            order_reference=facts.reference,
            link=link,
            expires_at=expires_at,
        ),
        wake=wake,
    )
