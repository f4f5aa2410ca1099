"""The invoice PDF's table rows are written in one piece each (`billing.pdf._row`) instead of
one `FPDF.text` call a value, for the billing run's sake: the file must be the same bytes as
the `FPDF.text` calls make, over several pages and with the characters a PDF string escapes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fpdf import FPDF

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import Invoice, InvoiceLine, LineKind
from prism_domain.money import Money
from prism_domain.periods import Period
from prism_graph.billing import pdf

pytestmark = pytest.mark.unit

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


def _render() -> bytes:
    kinds = list(LineKind)
    lines = tuple(
        InvoiceLine(
            customer_id=n % 7,
            subscription_id=n,
            sku=f"SKU-{n % 5}(a)\\b" if n % 3 else None,
            kind=kinds[n % len(kinds)],
            billing_term=BillingTerm.MONTHLY,
            period=OCTOBER,
            quantity=Decimal(n % 9),
            unit_cost=Money(Decimal("12.50") + n % 4, "AUD"),
            unit_price=Money(Decimal("15.00"), "AUD"),
            amount=Money(Decimal(n) / 8, "AUD"),
            description=f"Line {n} (part) é ✓" if n % 2 else "",
        )
        for n in range(150)  # several pages
    )
    invoice = Invoice(id=1, partner_id=1, program_id=1, period=OCTOBER, currency="AUD", lines=lines)
    return pdf.render_pdf(
        number="INV-202610-000001",
        partner="Partner (Pty) Ltd",
        program="Microsoft CSP",
        invoice=invoice,
        customer_names={n: f"Customer {n} (\\ é ✓)" for n in range(6)},
        issued_at=datetime(2026, 11, 1, 1, 2, 3, tzinfo=UTC),
        due_date=date(2026, 12, 1),
    )


def test_rows_are_the_bytes_fpdf_text_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = pdf._plain_text
    taken: list[bool] = []

    def spy(document: FPDF) -> bool:
        taken.append(plain(document))
        return taken[-1]

    monkeypatch.setattr(pdf, "_plain_text", spy)
    fast = _render()
    # All rows but each page's first (its font is not set on the page yet) are written whole.
    assert sum(taken) > len(taken) / 2
    monkeypatch.setattr(pdf, "_plain_text", lambda _pdf: False)  # every value by FPDF.text
    assert _render() == fast
    assert fast.count(b"/Type /Page\n") >= 3
