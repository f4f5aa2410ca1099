"""The invoice's number, and its lines as CSV (`Invoice.csv`): one row per line and a total
row, which opens in any spreadsheet and imports into a PSA as it is. The file the BILLING mail
attaches is the PDF (`billing.pdf`, through `billing.files`); the CSV is never mailed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date

from prism_domain.invoicing import Invoice
from prism_domain.money import exact_amount


def invoice_number(period_start: date, pk: int) -> str:
    return f"INV-{period_start:%Y%m}-{pk:06d}"


COLUMNS = (
    "invoice",
    "partner",
    "program",
    "customer",
    "kind",
    "sku",
    "description",
    "billing_term",
    "period_start",
    "period_end",
    "quantity",
    "unit_cost",
    "unit_price",
    "amount",
    "currency",
)


def _plain(value: object) -> str:
    return format(value, "f") if not isinstance(value, str) else value


def _safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def render_csv(
    *,
    number: str,
    partner: str,
    program: str,
    invoice: Invoice,
    customer_names: Mapping[int, str],
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in invoice.lines:
        writer.writerow(
            [
                number,
                _safe(partner),
                _safe(program),
                _safe(customer_names.get(int(line.customer_id), str(line.customer_id))),
                line.kind.value,
                line.sku or "",
                _safe(line.description),
                line.billing_term.value if line.billing_term else "",
                line.period.start.isoformat(),
                line.period.end.isoformat(),
                _plain(line.quantity),
                _plain(line.unit_cost.amount),
                _plain(line.unit_price.amount),
                _plain(exact_amount(line.amount.amount, invoice.currency)),
                invoice.currency,
            ]
        )
    total = _plain(exact_amount(invoice.total.amount, invoice.currency))
    writer.writerow(
        [number, "", "", "", "TOTAL", "", "", "", "", "", "", "", "", total, invoice.currency]
    )
    return out.getvalue().encode("utf-8")
