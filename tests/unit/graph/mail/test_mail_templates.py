"""Mail templates (issue 4 item 3; C5 notifications, R4 verification): every part renders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from jinja2 import UndefinedError

from prism_graph.mail.templates import TEMPLATES, UnknownTemplate, compose, render

pytestmark = pytest.mark.unit

SAMPLE: dict[str, Any] = {
    "recipient_name": "Dana <Admin>",
    "inviter_name": "Sam",
    "organisation_name": "Partner & Co",
    "display_name": "Dana <Admin>",
    "account_name": "Partner & Co",
    "contact_name": "Dana <Admin>",
    "link": "https://portal.example/t?token=abc&x=1",
    "expires_at": datetime(2026, 11, 23, 9, 5, tzinfo=UTC),
    "invoice_number": "INV-2026-0042",
    "program_name": "Microsoft CSP",
    "period_start": date(2026, 11, 1),
    "period_end": date(2026, 11, 30),
    "total": Decimal("1999.995"),
    "amount_due": Decimal("250"),
    "currency": "EUR",
    "due_date": date(2026, 12, 15),
    "statement_date": date(2026, 12, 1),
    # Orders (O5, O6)
    "msp_name": "Partner & Co",
    "company_name": "Contoso",
    "order_reference": "ORD-000042",
    "order_number": "PO-7781",
    "start_date": date(2026, 11, 24),
    "permitted_users": 25,
    "ongoing_monthly_payment": Decimal("202.50"),
    "one_time_fees": Decimal("150"),
    "first_payment": Decimal("197.50"),
    "implementation_lead": "Lee Chen <lee@contoso.example>",
    "lead_name": "Lee Chen",
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_renders_a_subject_a_text_and_an_escaped_html_part(name: str) -> None:
    context = {k: SAMPLE[k] for k in TEMPLATES[name]}
    subject, text, html = render(name, **context)

    assert subject and "\n" not in subject and subject == subject.strip()
    assert "Dana <Admin>" in text or "Partner & Co" in text  # text is not escaped
    assert "<Admin>" not in html and "Partner & Co" not in html  # the HTML is escaped
    assert "Dana &lt;Admin&gt;" in html or "Partner &amp; Co" in html
    assert html.lstrip().startswith("<!DOCTYPE html>")
    if "link" in context:
        assert "https://portal.example/t?token=abc&x=1" in text
        assert 'href="https://portal.example/t?token=abc&amp;x=1"' in html


def test_links_expire_and_are_single_use_in_the_wording() -> None:
    _, text, _ = render("contact_sign_in", **{k: SAMPLE[k] for k in TEMPLATES["contact_sign_in"]})
    assert "can be used once and expires on 23 November 2026, 09:05 UTC" in text


def test_an_invoice_mail_shows_the_amounts_rounded_half_up() -> None:
    subject, text, html = render(
        "invoice_issued", **{k: SAMPLE[k] for k in TEMPLATES["invoice_issued"]}
    )
    assert subject == "Invoice INV-2026-0042 for Partner & Co (Microsoft CSP)"
    assert "EUR 2,000.00" in text and "EUR 2,000.00" in html
    assert "1 November 2026 to 30 November 2026" in text
    assert "attached" in text


def test_a_missing_value_is_an_error_not_blank_text() -> None:
    context = {k: SAMPLE[k] for k in TEMPLATES["contact_verification"] if k != "link"}
    with pytest.raises(UndefinedError):
        render("contact_verification", **context)


def test_an_unknown_template_is_named() -> None:
    with pytest.raises(UnknownTemplate, match="no mail template 'nope'; known: contact_sign_in"):
        render("nope")


def test_compose_builds_an_outgoing_mail_that_records_its_template() -> None:
    mail = compose(
        "statement_due",
        to=["billing@customer.example"],
        idempotency_key="statement:7:contact:3",
        **{k: SAMPLE[k] for k in TEMPLATES["statement_due"]},
    )
    assert mail.template == "statement_due"
    assert mail.subject == "Statement of account for Partner & Co: EUR 250.00 due 15 December 2026"
    assert mail.html is not None and mail.to == ("billing@customer.example",)
