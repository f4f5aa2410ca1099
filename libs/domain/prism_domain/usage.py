"""Usage records imported from a CSV file (P3: usage lines, e.g. Azure, per customer, product
and day).

A file has a header row and one row per customer, SKU and day: `customer` (the customer's id
as the API shows it, or its domain), `sku`, `day` (YYYY-MM-DD) and `quantity` (units used that
day, e.g. 12.5). A row is the day's total, not an increment: importing it again, or a later
file naming the same customer, SKU and day, replaces the quantity (so the same file imported
twice counts once). Two rows for the same customer, SKU and day in one file are an error:
nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from prism_domain.catalogue import SKU_MAX_LENGTH
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.money import parse_amount
from prism_domain.uploads import CsvUpload, RowError

REQUIRED_COLUMNS = ("customer", "sku", "day", "quantity")
MAX_USAGE_ROWS = 20_000
CUSTOMER_MAX_LENGTH = 255


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One good row: `row` as a spreadsheet numbers it (the header is row 1)."""

    row: int
    customer: str
    sku: str
    day: date
    quantity: Decimal

    @property
    def key(self) -> tuple[str, str, date]:
        return self.customer.casefold(), self.sku.casefold(), self.day


@dataclass(frozen=True, slots=True)
class UsageImport:
    lines: tuple[UsageLine, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_row(index: int, row: dict[str, str]) -> UsageLine | list[RowError]:
    errors: list[RowError] = []
    customer = row["customer"].strip()
    sku = row["sku"].strip()
    if not customer:
        errors.append(RowError(index, "customer", ErrorCode.REQUIRED, "Customer is required."))
    elif len(customer) > CUSTOMER_MAX_LENGTH:
        errors.append(
            RowError(
                index,
                "customer",
                ErrorCode.TOO_LONG,
                f"Customer must be at most {CUSTOMER_MAX_LENGTH} characters.",
            )
        )
    if not sku:
        errors.append(RowError(index, "sku", ErrorCode.REQUIRED, "SKU is required."))
    elif len(sku) > SKU_MAX_LENGTH:
        errors.append(
            RowError(
                index,
                "sku",
                ErrorCode.TOO_LONG,
                f"SKU must be at most {SKU_MAX_LENGTH} characters.",
            )
        )
    day: date | None = None
    text = row["day"].strip()
    try:
        day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        errors.append(
            RowError(
                index,
                "day",
                ErrorCode.REQUIRED if not text else ErrorCode.INVALID,
                f"Day must be a date such as 2026-10-31 (got '{text[:20]}').",
            )
        )
    amount_errors: list[FieldError] = []
    quantity = parse_amount(
        row["quantity"], field="quantity", label="Quantity", errors=amount_errors
    )
    errors.extend(RowError(index, e.field, e.code, e.message) for e in amount_errors)
    if errors or day is None or quantity is None:
        return errors
    return UsageLine(index, customer, sku, day, quantity)


def parse_usage_csv(text: str) -> UsageImport:
    """Read a usage CSV (header row, comma separated) into lines and a per-row report.

    Headers are matched case-insensitively, spaces or hyphens read as underscores; unknown
    or missing columns, bad cells and repeated customer/SKU/day rows are all reported.
    """
    upload = CsvUpload.open(text, required=REQUIRED_COLUMNS)
    if upload.errors:
        return UsageImport((), tuple(upload.errors))
    errors = upload.errors
    lines: list[UsageLine] = []
    first_row_of: dict[tuple[str, str, date], int] = {}
    for index, row in upload.rows(MAX_USAGE_ROWS):
        parsed = _parse_row(index, row)
        if isinstance(parsed, list):
            errors.extend(parsed)
            continue
        first = first_row_of.setdefault(parsed.key, index)
        if first != index:
            errors.append(
                RowError(
                    index,
                    None,
                    ErrorCode.DUPLICATE,
                    f"{parsed.customer}, {parsed.sku} on {parsed.day} already appears on row "
                    f"{first}; give one total per customer, SKU and day.",
                )
            )
            continue
        lines.append(parsed)
    return UsageImport(tuple(lines), tuple(errors))
