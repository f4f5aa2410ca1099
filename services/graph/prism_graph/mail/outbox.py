"""Enqueue e-mail in the caller's transaction (the mail outbox).

Call `enqueue` inside the unit of work that makes the change the mail is about, before its
commit: the message exists exactly when the change does, and the sender delivers it later.

    async with database.unit_of_work() as uow:
        ...  # issue the invoice
        await enqueue(uow.session, compose("invoice_issued", to=[...], idempotency_key=...))
        await uow.commit()

The idempotency key names the logical message, e.g. ``f"invoice:{invoice.id}:issued:contact:{
contact.id}"``. Enqueueing a key that already exists does nothing, so a retried request or a
redelivered event never mails twice.
"""

from __future__ import annotations

from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from prism_platform.mail import (
    MAIL_NOTIFY_CHANNEL,
    MAX_ADDRESS_LENGTH,
    MAX_KEY_LENGTH,
    MAX_SUBJECT_LENGTH,
    MESSAGE_ID_DOMAIN,
    Attachment,
    MailAttachment,
    OutgoingMail,
    attachment_rows,
    check_address,
    enqueue_sync,
    insert_message,
    message_id_for,
)
from prism_platform.polling import WakeSignal

__all__ = [
    "MAIL_NOTIFY_CHANNEL",
    "MAX_ADDRESS_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_SUBJECT_LENGTH",
    "MESSAGE_ID_DOMAIN",
    "Attachment",
    "MailSignal",
    "OutgoingMail",
    "check_address",
    "enqueue",
    "enqueue_sync",
    "message_id_for",
]


class MailSignal(WakeSignal):
    """Wakes an in-process mail sender as soon as a transaction that enqueued mail commits."""


async def enqueue(
    session: AsyncSession, message: OutgoingMail, *, wake: MailSignal | None = None
) -> int | None:
    """Stage `message` in the caller's transaction; the id of its row, None if a duplicate.

    `wake`, if given, is notified when the transaction commits so that an in-process sender
    sends at once; on PostgreSQL, senders elsewhere are woken by NOTIFY on commit.
    """
    dialect = session.bind.dialect.name if session.bind is not None else ""
    mail_id = (await session.execute(insert_message(dialect, message))).scalar_one_or_none()
    if mail_id is None:
        return None
    if message.attachments:
        await session.execute(insert(MailAttachment), attachment_rows(int(mail_id), message))
    if dialect == "postgresql":
        await session.execute(select(func.pg_notify(MAIL_NOTIFY_CHANNEL, "")))
    if wake is not None:
        _notify_on_commit(session.sync_session, wake)
    return int(mail_id)


def _notify_on_commit(session: Session, wake: MailSignal) -> None:
    def after_commit(_: Session) -> None:
        wake.notify()

    event.listen(session, "after_commit", after_commit, once=True)
