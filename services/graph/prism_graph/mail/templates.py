"""The API's mail messages: which templates exist and what each needs.

Each template `NAME` is three files in `templates/` (`NAME.subject.txt`, `NAME.txt`,
`NAME.html`) that extend the shared layout; `prism_platform.mail_templates` renders them
(autoescaped HTML, strict variables, the `money(currency)` and `day` filters).

    subject, text, html = render("contact_verification", display_name=..., link=..., ...)
    mail = compose("invoice_issued", to=[...], idempotency_key=..., attachments=[...], ...)
"""

from __future__ import annotations

from pathlib import Path

from prism_platform.mail_templates import MailTemplates, UnknownTemplate

__all__ = ["TEMPLATES", "TEMPLATE_DIR", "UnknownTemplate", "compose", "render"]

TEMPLATE_DIR = Path(__file__).with_name("templates")

# The templates and what each needs (besides `product_name`, which defaults to "Prism").
TEMPLATES: dict[str, tuple[str, ...]] = {
    # Issue 4 item 4 / T2: a user is invited to a partner's portal.
    "user_invitation": (
        "recipient_name",
        "inviter_name",
        "organisation_name",
        "link",
        "expires_at",
    ),
    # R4: a customer account contact confirms its address.
    "contact_verification": ("display_name", "account_name", "link", "expires_at"),
    # Issue 4 item 4: a verified contact signs in by a magic link.
    "contact_sign_in": ("display_name", "account_name", "link", "expires_at"),
    # C1/C5 BILLING: a new invoice, attached to the mail.
    "invoice_issued": (
        "contact_name",
        "account_name",
        "invoice_number",
        "program_name",
        "period_start",
        "period_end",
        "total",
        "currency",
        "due_date",
    ),
    # C1/C5 STATEMENT: a statement of account with an outstanding balance.
    "statement_due": (
        "contact_name",
        "account_name",
        "statement_date",
        "amount_due",
        "currency",
        "due_date",
    ),
    # C1/C5 USAGE_REPORTING: a request to submit a usage report (SPLA, Citrix CSP, ...).
    "usage_report_requested": (
        "contact_name",
        "account_name",
        "program_name",
        "period_start",
        "period_end",
        "due_date",
        "link",
    ),
    # O5: the order addendum (attached) to the MSP that submitted the order.
    "order_submitted": (
        "msp_name",
        "company_name",
        "order_reference",
        "order_number",
        "start_date",
        "permitted_users",
        "currency",
        "ongoing_monthly_payment",
        "one_time_fees",
        "first_payment",
        "implementation_lead",
    ),
    # O5, O6: the Request for Information link to the customer's implementation lead.
    "rfi_requested": (
        "lead_name",
        "msp_name",
        "company_name",
        "order_reference",
        "link",
        "expires_at",
    ),
}


MESSAGES = MailTemplates(TEMPLATE_DIR, known=TEMPLATES)
# `render(name, **context)` -> RenderedMail; `compose(name, to=..., idempotency_key=...,
# cc=..., attachments=..., **context)` -> OutgoingMail, ready for `outbox.enqueue`.
render = MESSAGES.render
compose = MESSAGES.compose
