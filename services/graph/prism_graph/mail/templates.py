"""Mail templates: a subject, a plain-text part and an HTML part per message kind.

Each template `NAME` is three files in `templates/`: `NAME.subject.txt`, `NAME.txt` and
`NAME.html` (the HTML extends `_layout.html` and is autoescaped; the text parts are not).
Missing context variables are errors, never blank text. Filters: `money(currency)` and `day`.

    subject, text, html = render("contact_verification", display_name=..., link=..., ...)
    mail = compose("invoice_issued", to=[...], idempotency_key=..., attachments=[...], ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from prism_domain.money import Money, format_money
from prism_graph.mail.outbox import Attachment, OutgoingMail

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


class RenderedMail(NamedTuple):
    subject: str
    text: str
    html: str


class UnknownTemplate(LookupError):
    pass


def money(amount: Decimal | int | str, currency: str) -> str:
    """`1234.5, "EUR"` -> `EUR 1,234.50`, `"JPY"` -> `JPY 1,235`, `"KWD"` -> `KWD 1,234.500`:
    rounded once to the currency's minor unit, half up, like the invoices."""
    return format_money(Money.of(amount, currency).rounded())


def day(value: date | datetime | str) -> str:
    """A date or UTC datetime as `22 November 2026` (`... 14:05 UTC` for a datetime)."""
    if isinstance(value, datetime):
        return f"{value.day} {value:%B %Y, %H:%M} UTC"
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    return value


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["day"] = day
    return env


def render(template_name: str, **context: Any) -> RenderedMail:
    """Render a template's subject, text and HTML parts with `context`."""
    if template_name not in TEMPLATES:
        raise UnknownTemplate(
            f"no mail template {template_name!r}; known: {', '.join(sorted(TEMPLATES))}"
        )
    env = environment()
    context.setdefault("product_name", "Prism")
    subject = env.get_template(f"{template_name}.subject.txt").render(context)
    text = env.get_template(f"{template_name}.txt").render(context)
    html = env.get_template(f"{template_name}.html").render(context)
    return RenderedMail(" ".join(subject.split()), text.strip() + "\n", html)


def compose(
    template_name: str,
    *,
    to: Sequence[str],
    idempotency_key: str,
    cc: Sequence[str] = (),
    attachments: Sequence[Attachment] = (),
    **context: Any,
) -> OutgoingMail:
    """An `OutgoingMail` rendered from a template, ready for `outbox.enqueue`."""
    subject, text, html = render(template_name, **context)
    return OutgoingMail(
        to=to,
        cc=cc,
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        idempotency_key=idempotency_key,
        template=template_name,
    )
