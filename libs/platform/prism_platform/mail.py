"""The mail outbox's core, shared by every service (ADR-11; issue 7 S8).

The table (one row per logical message, unique by idempotency key), the message type, and
`enqueue_sync` for a plain `Session`: the sync worker enqueues its notices with it, in the
transaction of the change the mail is about. The API's async `prism_graph.mail.outbox.enqueue`
writes the same rows and the mailer (`prism_graph.mail.sender`) delivers them. It lives here,
not in `prism_graph.mail` (which re-exports all of it), so that the syncer needs no import of
the API (ADR-1: the API imports the syncer, never the reverse).

`idempotency_key` names the logical message ("invoice 42 issued -> contact 7"); it is unique,
so the same message can never be enqueued twice. The sender moves a row through
PENDING -> CLAIMED -> SENDING -> SENT (or back to PENDING with a back-off, or FAILED); see
`prism_graph.mail.sender` for why SENDING exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from prism_platform.db import Base, UTCDateTime, conflict_insert, utcnow

# PostgreSQL channel `enqueue` NOTIFYs on (delivered only on commit) and senders LISTEN on.
MAIL_NOTIFY_CHANNEL = "prism_mail"
MAX_KEY_LENGTH = 255
MAX_SUBJECT_LENGTH = 500
MAX_ADDRESS_LENGTH = 320
MESSAGE_ID_DOMAIN = "prism.mail"
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class MailStatus(StrEnum):
    PENDING = "PENDING"  # waiting until `available_at`
    CLAIMED = "CLAIMED"  # taken by a sender, not yet handed to the SMTP server
    SENDING = "SENDING"  # being handed to the SMTP server: outcome unknown if the sender dies
    SENT = "SENT"
    FAILED = "FAILED"  # given up; `last_error` says why


class MailMessage(Base):
    __tablename__ = "mail_messages"
    __table_args__ = (
        # Due rows (PENDING by available_at) and stale claims (CLAIMED/SENDING by lease).
        Index("ix_mail_messages_status_available", "status", "available_at", "id"),
        Index("ix_mail_messages_status_claimed", "status", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    # The Message-ID header, derived from the idempotency key: a re-send is recognisable.
    message_id_header: Mapped[str] = mapped_column(String(320))
    template: Mapped[str | None] = mapped_column(String(100))
    to_addresses: Mapped[list[str]] = mapped_column(JSON)
    cc_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, native_enum=False, length=20, validate_strings=True),
        default=MailStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the sender may (re)try; due now when created, later after a failed attempt.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The lease of the sender holding a CLAIMED/SENDING row, and which pass holds it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    attachments: Mapped[list[MailAttachment]] = relationship(
        lazy="raise",
        order_by="MailAttachment.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class MailAttachment(Base):
    __tablename__ = "mail_attachments"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)


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


def message_values(message: OutgoingMail) -> dict[str, Any]:
    """The `mail_messages` row of a message (both `enqueue`s write exactly this)."""
    return {
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


def insert_message(dialect: str, message: OutgoingMail) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: a duplicate key (even one committed by
    a concurrent transaction meanwhile) is a no-op that leaves the caller's transaction
    usable."""
    insert_for = conflict_insert(dialect)
    return (
        insert_for(MailMessage)
        .values(**message_values(message))
        .on_conflict_do_nothing(index_elements=[MailMessage.idempotency_key])
        .returning(MailMessage.id)
    )


def attachment_rows(mail_id: int, message: OutgoingMail) -> list[dict[str, Any]]:
    return [
        {
            "message_id": mail_id,
            "position": position,
            "filename": a.filename,
            "content_type": a.content_type,
            "content": a.content,
        }
        for position, a in enumerate(message.attachments)
    ]


def enqueue_sync(session: Session, message: OutgoingMail) -> int | None:
    """Stage `message` in the caller's (synchronous) transaction; the id of its row, None if
    its idempotency key was enqueued before. Senders are woken by NOTIFY on PostgreSQL and
    by polling on SQLite."""
    dialect = session.get_bind().dialect.name
    mail_id = session.execute(insert_message(dialect, message)).scalar_one_or_none()
    if mail_id is None:
        return None
    if message.attachments:
        session.execute(insert(MailAttachment), attachment_rows(int(mail_id), message))
    if dialect == "postgresql":
        session.execute(select(func.pg_notify(MAIL_NOTIFY_CHANNEL, "")))
    return int(mail_id)
