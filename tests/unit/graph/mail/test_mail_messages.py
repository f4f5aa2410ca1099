"""Outgoing mail values and their MIME form (issue 4 item 3): pure, no database or server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prism_graph.mail.ledger import retry_delay
from prism_graph.mail.mime import build_message
from prism_graph.mail.outbox import Attachment, OutgoingMail, message_id_for
from prism_platform.mail import MailAttachment, MailMessage

pytestmark = pytest.mark.unit


def outgoing(**overrides: object) -> OutgoingMail:
    fields: dict[str, object] = {
        "to": ["a@customer.example"],
        "subject": "Hello",
        "text": "Hi.\n",
        "idempotency_key": "k:1",
    }
    fields.update(overrides)
    return OutgoingMail(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"to": []},
        {"to": "a@customer.example"},  # one string, not a list
        {"to": ["not-an-address"]},
        {"to": ["a@customer.example, b@customer.example"]},
        {"to": ["Eve <eve@customer.example>"]},
        {"cc": ["x@customer.example\r\nBcc: spy@evil.example"]},
        {"subject": "Hello\r\nBcc: spy@evil.example"},
        {"subject": " "},
        {"subject": "x" * 501},
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 256},
    ],
)
def test_a_message_that_cannot_be_sent_safely_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        outgoing(**bad)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("../etc/passwd", "text/plain"), ("a\r\nb.pdf", "application/pdf"), ("a.pdf", "pdf")],
)
def test_a_bad_attachment_is_refused(filename: str, content_type: str) -> None:
    with pytest.raises(ValueError):
        Attachment(filename, content_type, b"x")


def test_a_message_is_frozen_against_later_changes_of_the_callers_list() -> None:
    to = ["a@customer.example"]
    mail = outgoing(to=to)
    to.append("b@customer.example")
    assert mail.to == ("a@customer.example",)


def test_the_message_id_is_stable_per_logical_message() -> None:
    assert message_id_for("invoice:42:contact:7") == message_id_for("invoice:42:contact:7")
    assert message_id_for("invoice:42:contact:7") != message_id_for("invoice:42:contact:8")
    assert message_id_for("x").startswith("<") and message_id_for("x").endswith("@prism.mail>")


def test_the_back_off_doubles_with_jitter_up_to_the_cap() -> None:
    for attempts, low, high in [(1, 15, 30), (2, 30, 60), (3, 60, 120), (20, 1800, 3600)]:
        delay = retry_delay(attempts, base=30, cap=3600)
        assert timedelta(seconds=low) <= delay <= timedelta(seconds=high)


def test_the_mime_message_has_alternatives_and_attachments_in_seven_bit() -> None:
    row = MailMessage(
        idempotency_key="k",
        message_id_header=message_id_for("k"),
        template="invoice_issued",
        to_addresses=["a@customer.example", "b@customer.example"],
        cc_addresses=[],
        subject="Rechnung für Müller",
        text_body="Grüße\n",
        html_body="<p>Grüße</p>",
        created_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    )
    row.attachments = [
        MailAttachment(
            position=0, filename="r.pdf", content_type="application/pdf", content=b"\x00\xff"
        )
    ]

    msg = build_message(row, "Prism <no-reply@prism.example>")
    data = msg.as_bytes()

    assert data.isascii()  # any SMTP server takes it, no 8BITMIME needed
    assert b"Subject: Rechnung =?utf-8?q?f=C3=BCr_M=C3=BCller?=" in data
    assert msg["To"] == "a@customer.example, b@customer.example"
    assert msg["Cc"] is None
    assert msg["Date"] == "Sun, 22 Nov 2026 03:00:00 +0000"
    assert msg.get_content_type() == "multipart/mixed"
    (attachment,) = msg.iter_attachments()
    assert attachment.get_content() == b"\x00\xff"
