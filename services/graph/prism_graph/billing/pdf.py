"""The invoice as a PDF (C5), made with fpdf2 (a dependency of the project since the order
addendum): header, one row per line, the total. Core fonts are Latin-1 only, so other
characters in names are replaced rather than failing an invoice over a customer's name.
The lines are drawn as plain text at their columns' positions (`_row`), not as fpdf cells:
a cell costs about ten times as much, which made the PDF most of a billing run's time on
invoices of thousands of lines (`bench/billing.py`).

The same invoice renders to the same bytes: the file's creation date is the invoice's issue
time, not the time it is drawn, so the copy the API serves equals the one the mail attached
(`billing.files`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from fpdf import FPDF
from fpdf.enums import TextMode

from prism_domain.invoicing import Invoice
from prism_domain.money import Money, format_money

CONTENT_TYPE = "application/pdf"
# (heading, width in mm, alignment) on an A4 landscape page (277 mm between margins)
_COLUMNS = (
    ("Customer", 48, "L"),
    ("Kind", 26, "L"),
    ("SKU", 38, "L"),
    ("Description", 60, "L"),
    ("Period", 40, "L"),
    ("Qty", 15, "R"),
    ("Unit cost", 25, "R"),
    ("Amount", 25, "R"),
)


def _text(value: str, width: int | None = None) -> str:
    text = value.encode("latin-1", "replace").decode("latin-1")
    return text if width is None or len(text) <= width else text[: width - 1] + "~"


_ROW_HEIGHT = 6


def _row(pdf: FPDF, cells: tuple[str, ...], widths: dict[str, float]) -> None:
    """One line of the table, as a cell row would lay it out (left or right in its column,
    vertically centred), starting a new page where a cell would have."""
    if pdf.y + _ROW_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    baseline = pdf.y + 0.5 * _ROW_HEIGHT + 0.3 * pdf.font_size
    x = pdf.l_margin
    at: list[tuple[float, str]] = []
    for (_, width, align), value in zip(_COLUMNS, cells, strict=True):
        if value:
            if align == "R":
                if (text_width := widths.get(value)) is None:
                    text_width = widths[value] = pdf.get_string_width(value)
                at.append((x + width - pdf.c_margin - text_width, value))
            else:
                at.append((x + pdf.c_margin, value))
        x += width
    if _plain_text(pdf):
        # What `pdf.text` writes for each value (a BT ... ET operation a line), in one write
        # for the row: the same bytes, without the per-call checks that cost most of the row.
        y = f"{(pdf.h - baseline) * pdf.k:.2f}"
        font = pdf.current_font
        assert font is not None
        pdf._out(
            "\n".join(f"BT {left * pdf.k:.2f} {y} Td {font.encode_text(v)} ET" for left, v in at)
        )
    else:
        for left, value in at:
            pdf.text(left, baseline, value)
    pdf.set_xy(pdf.l_margin, pdf.y + _ROW_HEIGHT)


def _plain_text(pdf: FPDF) -> bool:
    """Whether `pdf.text` would write nothing but the text operation itself: a core font
    already set on the page, filled Latin-1 text with no underline, strike-through, quad
    points or colour change. The table's rows are; anything else takes `pdf.text`."""
    return (
        not pdf.is_ttf_font
        and pdf.core_fonts_encoding in ("latin-1", "latin1")
        and pdf.current_font is not None
        and pdf.current_font_is_set_on_page
        and pdf.text_mode == TextMode.FILL
        and not pdf.underline
        and not pdf.strikethrough
        and not pdf._record_text_quad_points
        and pdf.fill_color == pdf.text_color
    )


def render_pdf(
    *,
    number: str,
    partner: str,
    program: str,
    invoice: Invoice,
    customer_names: Mapping[int, str],
    issued_at: datetime,
    due_date: date,
) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creation_date(issued_at)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(_text(f"Invoice {number}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(f"Invoice {number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (
        ("Partner", partner),
        ("Program", program),
        ("Period", f"{invoice.period.start.isoformat()} to {invoice.period.end.isoformat()}"),
        ("Issued", issued_at.date().isoformat()),
        ("Due", due_date.isoformat()),
    ):
        pdf.cell(30, 6, label)
        pdf.cell(0, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    for heading, width, align in _COLUMNS:
        pdf.cell(width, 7, heading, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", size=8)
    widths: dict[str, float] = {}  # of the right-aligned amounts, which repeat
    for line in invoice.lines:
        cells = (
            _text(customer_names.get(int(line.customer_id), str(line.customer_id)), 30),
            line.kind.value,
            _text(line.sku or "", 24),
            _text(line.description, 38),
            f"{line.period.start.isoformat()} - {line.period.end.isoformat()}",
            format(line.quantity, "f"),
            format(line.unit_cost.amount, "f"),
            format(line.amount.amount, "f"),
        )
        _row(pdf, cells, widths)
    pdf.set_font("Helvetica", "B", 10)
    total: Money = invoice.total
    pdf.cell(0, 9, _text(f"Total {format_money(total)}"), border="T", align="R")
    return bytes(pdf.output())
