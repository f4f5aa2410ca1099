"""The order addendum (O5): a PDF made with fpdf2, mailed to the MSP and kept on the customer.

It is what the submitter agreed to: the parties, the company, the products with their prices,
the payments, the order number and the two acknowledgements, with the dates. fpdf2's core
fonts cover Latin-1 only, so other characters are transliterated (or replaced by "?") rather
than failing a submit over a name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from fpdf import FPDF

from prism_domain.money import Money, format_money
from prism_domain.orders import OrderQuote

CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class AddendumFacts:
    reference: str
    msp_name: str
    distributor_name: str
    company_name: str
    company_domain: str | None
    order_number: str | None
    submitted_at: datetime
    submitted_by: str
    implementation_lead: str
    quote: OrderQuote
    currency: str


def filename_for(reference: str) -> str:
    return f"order-addendum-{reference}.pdf"


def _latin1(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in folded if not unicodedata.combining(c))
    return kept.encode("latin-1", "replace").decode("latin-1")


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _money(value: Money) -> str:
    return format_money(value)


def _plain(value: Money) -> str:
    """Grouped digits without the currency code (the table says it once)."""
    return format_money(value).partition(" ")[2]


class _Document(FPDF):
    def __init__(self, reference: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.reference = reference

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, f"Order addendum {self.reference} - page {self.page_no()}", align="C")


def render_addendum(facts: AddendumFacts) -> bytes:
    pdf = _Document(facts.reference)
    pdf.set_title(f"Order addendum {facts.reference}")
    pdf.set_subject(f"Order {facts.order_number or facts.reference} for {facts.company_name}")
    pdf.set_author(_latin1(facts.msp_name))
    pdf.set_creator("Prism")
    pdf.set_creation_date(facts.submitted_at)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def text(value: str, *, size: int = 10, bold: bool = False, height: float = 6) -> None:
        pdf.set_font("Helvetica", style="B" if bold else "", size=size)
        pdf.multi_cell(width, height, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    def pair(label: str, value: str) -> None:
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(55, 6, _latin1(label))
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width - 55, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    text("Order addendum", size=18, bold=True, height=10)
    text(f"Reference {facts.reference}", size=11)
    pdf.ln(3)
    text("Managed Service Providers Agreement", size=13, bold=True, height=8)
    pair("MSP", facts.msp_name)
    pair("Distributor", facts.distributor_name)
    pair("Company name", facts.company_name)
    if facts.company_domain:
        pair("Company domain", facts.company_domain)
    pair("Permitted users", str(facts.quote.permitted_users))
    pair("Start date", _day(facts.quote.start_date))
    pair("Implementation lead", facts.implementation_lead)
    pdf.ln(3)

    text("Products", size=13, bold=True, height=8)
    _lines_table(pdf, facts)
    pdf.ln(3)

    quote = facts.quote
    text("Payments", size=13, bold=True, height=8)
    pair("Ongoing monthly payment", _money(quote.ongoing_monthly_payment))
    if quote.annual_payment.amount:
        pair("Annual payment", _money(quote.annual_payment) + " per year, charged up front")
    pair("One time (up front) fees", _money(quote.one_time_fees))
    pair(
        "First payment",
        f"{_money(quote.first_payment)} (one-time fees and the first period, "
        f"{_day(quote.first_period.start)} to {_day(quote.first_period.end)}, prorated by days)",
    )
    pdf.ln(3)

    text("Order details", size=13, bold=True, height=8)
    pair("Order number", facts.order_number or "Not required")
    pair("Submitted", f"{facts.submitted_at:%d %B %Y %H:%M} UTC by {facts.submitted_by}")
    pdf.ln(2)
    text(
        "[x] The submitter confirms that this order is governed by the Master Service Provider "
        "Agreement already in effect between the MSP and the distributor."
    )
    text("[x] The submitter confirms that they are authorised to place this order.")
    return bytes(pdf.output())


def _lines_table(pdf: FPDF, facts: AddendumFacts) -> None:
    headings: Sequence[tuple[str, float, str]] = (
        ("SKU", 34, "L"),
        ("Product", 52, "L"),
        ("Term", 18, "L"),
        ("Qty", 12, "R"),
        ("Unit price", 22, "R"),
        ("Amount", 22, "R"),
        ("First payment", 0, "R"),
    )
    pdf.set_font("Helvetica", style="B", size=8)
    for label, w, align in headings:
        pdf.cell(w, 6, label, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", size=8)
    for line in facts.quote.lines:
        kind = "once" if line.kind.value == "ONE_TIME_FEE" else line.billing_term.value.lower()
        values = (
            line.sku[:24],
            line.name[:38],
            kind,
            str(line.quantity),
            _plain(line.unit_price),
            _plain(line.amount),
            _plain(line.first_payment_amount),
        )
        for (_, w, align), value in zip(headings, values, strict=True):
            pdf.cell(w, 6, _latin1(value), align=align)
        pdf.ln()
    pdf.set_font("Helvetica", style="I", size=8)
    pdf.cell(0, 6, f"Amounts in {facts.currency}.", new_x="LMARGIN", new_y="NEXT")
