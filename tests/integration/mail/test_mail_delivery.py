"""Mail really sent over SMTP (issue 4 item 3, C5, R4): what the server receives."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_graph.database import Database
from prism_graph.mail.outbox import Attachment, OutgoingMail, enqueue, message_id_for
from prism_graph.mail.sender import MailSender
from prism_graph.mail.templates import compose
from prism_platform.mail import MailAttachment, MailMessage, MailStatus

pytestmark = pytest.mark.integration

# A fabricated invoice: binary bytes that a careless encoder would mangle.
INVOICE_PDF = b"%PDF-1.7\n" + bytes(range(256)) + b"\r\n.\r\n..leading dots\n%%EOF\n"


def key() -> str:
    return f"test:{uuid.uuid4()}"


def invoice_mail(idempotency_key: str, **overrides: Any) -> OutgoingMail:
    fields: dict[str, Any] = {
        "to": ["ann.billing@acme.example"],
        "cc": ["accounts@acme.example"],
        "idempotency_key": idempotency_key,
        "attachments": [Attachment("INV-42.pdf", "application/pdf", INVOICE_PDF)],
        "contact_name": "Ann Müller",
        "account_name": "Acme & Söhne",
        "invoice_number": "INV-42",
        "program_name": "Microsoft CSP",
        "period_start": date(2026, 11, 1),
        "period_end": date(2026, 11, 30),
        "total": Decimal("1234.5"),
        "currency": "EUR",
        "due_date": date(2026, 12, 15),
    }
    fields.update(overrides)
    return compose("invoice_issued", **fields)


async def put(database: Database, *messages: OutgoingMail) -> list[int | None]:
    async with database.unit_of_work() as uow:
        ids = [await enqueue(uow.session, m) for m in messages]
        await uow.commit()
    return ids


def rows(engine: Engine) -> list[MailMessage]:
    with Session(engine) as session:
        return list(session.scalars(select(MailMessage).order_by(MailMessage.id)))


async def test_a_message_arrives_with_headers_both_parts_and_the_attachment(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    k = key()
    await put(database, invoice_mail(k))

    assert sender.send_pending() == 1

    (got,) = smtp_server.received
    msg = got.message
    assert got.mail_from == "billing@prism.example"
    assert got.rcpt_tos == ("ann.billing@acme.example", "accounts@acme.example")
    assert msg["From"] == "Prism Billing <billing@prism.example>"
    assert msg["To"] == "ann.billing@acme.example"
    assert msg["Cc"] == "accounts@acme.example"
    assert msg["Subject"] == "Invoice INV-42 for Acme & Söhne (Microsoft CSP)"
    assert msg["Message-ID"] == message_id_for(k)
    assert msg["Date"]
    assert msg["X-Prism-Template"] == "invoice_issued"
    assert msg.get_content_type() == "multipart/mixed"
    body = msg.get_body(preferencelist=("related", "html", "plain"))
    alternative = next(
        p for p in msg.iter_parts() if p.get_content_type() == "multipart/alternative"
    )
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None and body is not None
    assert "Hello Ann Müller," in text.get_content()
    assert "EUR 1,234.50" in text.get_content()
    assert "Acme &amp; Söhne" in body.get_content()  # the HTML part is escaped
    (attachment,) = msg.iter_attachments()
    assert attachment.get_filename() == "INV-42.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == INVOICE_PDF

    (row,) = rows(sync_engine)
    assert row.status == MailStatus.SENT
    assert row.attempts == 1 and row.sent_at is not None and row.last_error is None
    assert sender.send_pending() == 0  # nothing is sent twice


async def test_a_rolled_back_transaction_enqueues_no_mail(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            await enqueue(uow.session, invoice_mail(key()))
            raise RuntimeError("the change that caused the mail failed")

    assert rows(sync_engine) == []
    with Session(sync_engine) as session:
        assert session.scalars(select(MailAttachment)).all() == []
    assert sender.send_pending() == 0
    assert smtp_server.received == []


async def test_the_same_logical_message_is_enqueued_and_sent_once(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    k = key()
    first, again_in_same_transaction = await put(database, invoice_mail(k), invoice_mail(k))
    (again_later,) = await put(database, invoice_mail(k, contact_name="Someone Else"))

    assert first is not None
    assert again_in_same_transaction is None and again_later is None
    (row,) = rows(sync_engine)
    assert "Ann Müller" in row.text_body  # the first one wins
    with Session(sync_engine) as session:
        assert len(session.scalars(select(MailAttachment)).all()) == 1

    assert sender.send_pending() == 1
    (arrived,) = await put(database, invoice_mail(k))  # after it was sent, still a no-op
    assert arrived is None
    assert sender.send_pending() == 0
    assert smtp_server.handler.message_ids() == [message_id_for(k)]


async def test_a_message_without_html_or_attachments_is_plain_text(
    database: Database, sender: MailSender, smtp_server: Any
) -> None:
    await put(
        database,
        OutgoingMail(
            to=["ops@partner.example"], subject="Plain", text="Just text.\n", idempotency_key=key()
        ),
    )
    assert sender.send_pending() == 1
    (got,) = smtp_server.received
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content() == "Just text.\n"
