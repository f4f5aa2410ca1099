"""The mail outbox: one row per logical message, written in the transaction that caused it.

`idempotency_key` names the logical message ("invoice 42 issued -> contact 7"); it is unique,
so the same message can never be enqueued twice. The sender moves a row through
PENDING -> CLAIMED -> SENDING -> SENT (or back to PENDING with a back-off, or FAILED); see
`prism_graph.mail.sender` for why SENDING exists.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from prism_platform.db import Base, UTCDateTime, utcnow

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
