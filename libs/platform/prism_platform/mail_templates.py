"""One home for rendering mail, for every service: the Jinja environment, the shared layout
and the render function.

A service keeps only its own message templates, in a folder of its own, and passes that
folder here. A message `NAME` is three files in it: `NAME.subject.txt`, `NAME.txt` (which
extends `_layout.txt`) and `NAME.html` (which extends `_layout.html`). The layouts and the
`_button.html` link button live in this package's `templates/` folder, so every mail Prism
sends looks the same; a message fills the layout's `content` block and may replace its
`footer` block (the HTML layout's default footer says who sent it; the text layout has none).

The HTML part is autoescaped, the text parts are not. A missing context variable is an error,
never blank text. Filters: `money(currency)` (`prism_domain.money`: rounded once to the
currency's minor unit, half up) and `day` (a date, or a UTC datetime with its time).

    subject, text, html = render(TEMPLATE_DIR, "sync_failed", program_name=..., ...)
    mail = compose(TEMPLATE_DIR, "invoice_issued", to=[...], idempotency_key=..., ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from prism_domain.money import Money, format_money
from prism_platform.mail import Attachment, OutgoingMail

# The shared layouts; looked up before a service's folder, so no service can replace them.
LAYOUT_DIR = Path(__file__).with_name("templates")
DEFAULT_PRODUCT_NAME = "Prism"


class RenderedMail(NamedTuple):
    subject: str
    text: str
    html: str


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
def environment(template_dir: Path) -> Environment:
    """The environment of one service's message templates (built once per folder)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(LAYOUT_DIR), FileSystemLoader(template_dir)]),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["day"] = day
    return env


def render(template_dir: Path, template_name: str, **context: Any) -> RenderedMail:
    """The subject (one line), text and HTML parts of `template_name` in `template_dir`."""
    env = environment(template_dir)
    context.setdefault("product_name", DEFAULT_PRODUCT_NAME)
    subject = env.get_template(f"{template_name}.subject.txt").render(context)
    text = env.get_template(f"{template_name}.txt").render(context)
    html = env.get_template(f"{template_name}.html").render(context)
    return RenderedMail(" ".join(subject.split()), text.strip() + "\n", html)


def compose(
    template_dir: Path,
    template_name: str,
    *,
    to: Sequence[str],
    idempotency_key: str,
    cc: Sequence[str] = (),
    attachments: Sequence[Attachment] = (),
    **context: Any,
) -> OutgoingMail:
    """An `OutgoingMail` rendered from a template, ready for the mail outbox."""
    subject, text, html = render(template_dir, template_name, **context)
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
