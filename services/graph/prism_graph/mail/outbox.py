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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr

from sqlalchemy import event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from prism_graph.mail.models import MailAttachment, MailMessage, MailStatus
from prism_platform.db import utcnow
from prism_platform.polling import WakeSignal

# PostgreSQL channel `enqueue` NOTIFYs on (delivered only on commit) and senders LISTEN on.
MAIL_NOTIFY_CHANNEL = "prism_mail"
MAX_KEY_LENGTH = 255
MAX_SUBJECT_LENGTH = 500
MAX_ADDRESS_LENGTH = 320
MESSAGE_ID_DOMAIN = "prism.mail"


class MailSignal(WakeSignal):
    """Wakes an in-process mail sender as soon as a transaction that enqueued mail commits."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    content: bytes

    def __post_init__(self) -> None:
        if not self.filename or any(c in self.filename for c in "\r\n/\\"):
            raise ValueError(f"bad attachment file name: {self.filename!r}")
        maintype, _, subtype = self.content_type.partition("/")
        if not maintype or not subtype or any(c in self.content_type for c in "\r\n;"):
            raise ValueError(f"bad attachment content type: {self.content_type!r}")


@dataclass(frozen=True)
class OutgoingMail:
    """One logical message. `template` only records where the text came from."""

    to: Sequence[str]
    subject: str
    text: str
    idempotency_key: str
    html: str | None = None
    cc: Sequence[str] = ()
    attachments: Sequence[Attachment] = field(default_factory=tuple)
    template: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.to, str) or isinstance(self.cc, str):
            raise ValueError("give recipients as a list of addresses, not one string")
        # Frozen copies, so that a caller's list changing later cannot change the message.
        object.__setattr__(self, "to", tuple(self.to))
        object.__setattr__(self, "cc", tuple(self.cc))
        object.__setattr__(self, "attachments", tuple(self.attachments))
        if not self.to:
            raise ValueError("a message needs at least one recipient")
        for address in (*self.to, *self.cc):
            check_address(address)
        if not self.idempotency_key.strip() or len(self.idempotency_key) > MAX_KEY_LENGTH:
            raise ValueError(f"the idempotency key must be 1 to {MAX_KEY_LENGTH} characters")
        if not self.subject.strip() or len(self.subject) > MAX_SUBJECT_LENGTH:
            raise ValueError(f"the subject must be 1 to {MAX_SUBJECT_LENGTH} characters")
        if "\r" in self.subject or "\n" in self.subject:
            raise ValueError("the subject must be one line")  # no header injection


def check_address(address: str) -> None:
    """Refuse what cannot be one plain mailbox (the domain validates e-mail addresses fully)."""
    _, parsed = parseaddr(address)
    if (
        not parsed
        or parsed != address.strip()
        or len(parsed) > MAX_ADDRESS_LENGTH
        or any(c in address for c in "\r\n,;")
    ):
        raise ValueError(f"not a single e-mail address: {address!r}")
    try:
        Address(addr_spec=parsed)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not a single e-mail address: {address!r}") from exc
    if "@" not in parsed:
        raise ValueError(f"not a single e-mail address: {address!r}")


def message_id_for(idempotency_key: str) -> str:
    """The Message-ID header of a logical message: the same key always gives the same id."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


async def enqueue(
    session: AsyncSession, message: OutgoingMail, *, wake: MailSignal | None = None
) -> int | None:
    """Stage `message` in the caller's transaction; the id of its row, None if a duplicate.

    `wake`, if given, is notified when the transaction commits so that an in-process sender
    sends at once; on PostgreSQL, senders elsewhere are woken by NOTIFY on commit.
    """
    values = {
        "idempotency_key": message.idempotency_key,
        "message_id_header": message_id_for(message.idempotency_key),
        "template": message.template,
        "to_addresses": list(message.to),
        "cc_addresses": list(message.cc),
        "subject": message.subject,
        "text_body": message.text,
        "html_body": message.html,
        "status": MailStatus.PENDING,
        "attempts": 0,
        "created_at": utcnow(),
        "available_at": utcnow(),
    }
    dialect = session.bind.dialect.name if session.bind is not None else ""
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # ON CONFLICT DO NOTHING: a duplicate key (even one committed by a concurrent transaction
    # meanwhile) is a no-op that leaves the caller's transaction usable.
    stmt = (
        insert_for(MailMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[MailMessage.idempotency_key])
        .returning(MailMessage.id)
    )
    mail_id = (await session.execute(stmt)).scalar_one_or_none()
    if mail_id is None:
        return None
    if message.attachments:
        await session.execute(
            insert(MailAttachment),
            [
                {
                    "message_id": mail_id,
                    "position": position,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "content": a.content,
                }
                for position, a in enumerate(message.attachments)
            ],
        )
    if dialect == "postgresql":
        await session.execute(select(func.pg_notify(MAIL_NOTIFY_CHANNEL, "")))
    if wake is not None:
        _notify_on_commit(session.sync_session, wake)
    return int(mail_id)


def _notify_on_commit(session: Session, wake: MailSignal) -> None:
    def after_commit(_: Session) -> None:
        wake.notify()

    event.listen(session, "after_commit", after_commit, once=True)
