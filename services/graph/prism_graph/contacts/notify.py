"""Notices to the contacts of a type (SPEC C1, C5): what billing calls.

Each function enqueues one mail per contact of the matching type through the mail outbox, in
the caller's transaction (`session`), so the mails exist exactly when the change that caused
them commits. Idempotency keys name the logical message per contact, so a retried call or a
redelivered event never mails anyone twice:

- invoice issued (BILLING, with the invoice attached): `invoice-issued:{invoice_id}:{contact_id}`
- statement due (STATEMENT): `statement-due:{account}:{statement_date}:{contact_id}`
- usage report requested (USAGE_REPORTING):
  `usage-report-requested:{account}:{program and period digest}:{contact_id}`

They return how many mails were newly enqueued. They are trusted code: no scope applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.contacts import ContactType
from prism_domain.errors import ErrorCode, FieldError
from prism_graph.contacts.accounts import AccountRef, account_name
from prism_graph.contacts.by_type import contacts_of_type
from prism_graph.database import Database
from prism_graph.mail.outbox import Attachment, MailSignal, enqueue
from prism_graph.mail.templates import compose
from prism_tables.contacts import AccountContact


class UnknownAccount(LookupError):
    pass


def _full_name(contact: AccountContact) -> str:
    return f"{contact.first_name} {contact.last_name}"


async def _recipients(
    session: AsyncSession, account: AccountRef, contact_type: ContactType
) -> tuple[str, Sequence[AccountContact]]:
    name = await account_name(session, account, None)
    if name is None:
        raise UnknownAccount(f"no account {account.key}")
    return name, await contacts_of_type(session, account, contact_type)


async def _notify_type(
    session: AsyncSession,
    account: AccountRef,
    contact_type: ContactType,
    template: str,
    key: str,
    *,
    wake: MailSignal | None,
    attachments: Sequence[Attachment] = (),
    **values: Any,
) -> int:
    """One `template` mail to each contact of `contact_type`, keyed `{key}:{contact id}`."""
    name, contacts = await _recipients(session, account, contact_type)
    sent = 0
    for contact in contacts:
        message = compose(
            template,
            to=[contact.email],
            idempotency_key=f"{key}:{contact.id}",
            attachments=list(attachments),
            contact_name=_full_name(contact),
            account_name=name,
            **values,
        )
        sent += await enqueue(session, message, wake=wake) is not None
    return sent


async def notify_invoice_issued(
    session: AsyncSession,
    account: AccountRef,
    *,
    invoice_id: int | str,
    invoice_number: str,
    program_name: str,
    period_start: date,
    period_end: date,
    total: Decimal,
    currency: str,
    due_date: date,
    document: Attachment,
    link: str | None = None,
    wake: MailSignal | None = None,
) -> int:
    """C1/C5 BILLING: the new invoice, with a copy attached, to each billing contact."""
    return await _notify_type(
        session,
        account,
        ContactType.BILLING,
        "invoice_issued",
        f"invoice-issued:{invoice_id}",
        wake=wake,
        attachments=[document],
        invoice_number=invoice_number,
        program_name=program_name,
        period_start=period_start,
        period_end=period_end,
        total=total,
        currency=currency,
        due_date=due_date,
        link=link,
    )


async def notify_statement_due(
    session: AsyncSession,
    account: AccountRef,
    *,
    statement_date: date,
    amount_due: Decimal,
    currency: str,
    due_date: date,
    link: str | None = None,
    wake: MailSignal | None = None,
) -> int:
    """C1/C5 STATEMENT: a statement of account with an outstanding balance."""
    return await _notify_type(
        session,
        account,
        ContactType.STATEMENT,
        "statement_due",
        f"statement-due:{account.key}:{statement_date.isoformat()}",
        wake=wake,
        statement_date=statement_date,
        amount_due=amount_due,
        currency=currency,
        due_date=due_date,
        link=link,
    )


async def notify_usage_report_requested(
    session: AsyncSession,
    account: AccountRef,
    *,
    program_name: str,
    period_start: date,
    period_end: date,
    due_date: date,
    link: str,
    wake: MailSignal | None = None,
) -> int:
    """C1/C5 USAGE_REPORTING: a request to submit a program's usage report for a period."""
    request = hashlib.sha256(
        f"{program_name}|{period_start.isoformat()}|{period_end.isoformat()}".encode()
    ).hexdigest()[:32]
    return await _notify_type(
        session,
        account,
        ContactType.USAGE_REPORTING,
        "usage_report_requested",
        f"usage-report-requested:{account.key}:{request}",
        wake=wake,
        program_name=program_name,
        period_start=period_start,
        period_end=period_end,
        due_date=due_date,
        link=link,
    )


async def notify_visible_account(
    database: Database,
    scope: Scope,
    account: AccountRef,
    notice: Callable[[AsyncSession], Awaitable[int]],
) -> int | list[FieldError]:
    """Run `notice` for an account the caller reaches (staff triggers); NOT_FOUND otherwise."""
    async with database.unit_of_work() as uow:
        if await account_name(uow.session, account, scope) is None:
            return [
                FieldError("accountId", ErrorCode.NOT_FOUND, "No such partner or customer account.")
            ]
        sent = await notice(uow.session)
        await uow.commit()
        return sent
