"""One home for rendering mail, for every service: the Jinja environment, the shared layout
and the renderer (`MailTemplates`).

A service keeps only its own message templates, in a folder of its own, and hands that
folder to a `MailTemplates`. A message `NAME` is three files in it: `NAME.subject.txt`, `NAME.txt` (which
extends `_layout.txt`) and `NAME.html` (which extends `_layout.html`). The layouts and the
`_button.html` link button live in this package's `templates/` folder, so every mail Prism
sends looks the same; a message fills the layout's `content` block and may replace its
`footer` block (the HTML layout's default footer says who sent it; the text layout has none).

The HTML part is autoescaped, the text parts are not. A missing context variable is an error,
never blank text. Filters: `money(currency)` (`prism_domain.money`: rounded once to the
currency's minor unit, half up) and `day` (a date, or a UTC datetime with its time).

    messages = MailTemplates(Path(__file__).with_name("templates"), known=("sync_failed",))
    subject, text, html = messages.render("sync_failed", program_name=..., ...)
    mail = messages.compose("sync_failed", to=[...], idempotency_key=..., ...)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
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


class UnknownTemplate(LookupError):
    """A message name the service does not know."""


@dataclass(frozen=True)
class MailTemplates:
    """One service's messages: the folder they are in and, when given, the names it knows."""

    folder: Path
    known: Collection[str] | None = None

    def render(self, template_name: str, **context: Any) -> RenderedMail:
        """The subject (one line), text and HTML parts of a message, rendered with `context`."""
        if self.known is not None and template_name not in self.known:
            raise UnknownTemplate(
                f"no mail template {template_name!r}; known: {', '.join(sorted(self.known))}"
            )
        env = environment(self.folder)
        context.setdefault("product_name", DEFAULT_PRODUCT_NAME)
        subject = env.get_template(f"{template_name}.subject.txt").render(context)
        text = env.get_template(f"{template_name}.txt").render(context)
        html = env.get_template(f"{template_name}.html").render(context)
        return RenderedMail(" ".join(subject.split()), text.strip() + "\n", html)

    def compose(
        self,
        template_name: str,
        *,
        to: Sequence[str],
        idempotency_key: str,
        cc: Sequence[str] = (),
        attachments: Sequence[Attachment] = (),
        **context: Any,
    ) -> OutgoingMail:
        """An `OutgoingMail` rendered from a message, ready for the mail outbox."""
        subject, text, html = self.render(template_name, **context)
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
