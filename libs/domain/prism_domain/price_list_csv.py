"""Reading a program's price list from a CSV file (P1): entries, or a report per bad row."""

from __future__ import annotations

from dataclasses import dataclass

from prism_domain.catalogue import (
    PriceListEntry,
)
from prism_domain.errors import DomainValidationError, ErrorCode
from prism_domain.uploads import CsvUpload, RowError

REQUIRED_COLUMNS = ("sku", "name", "buy_price", "rrp", "billing_term", "kind")
OPTIONAL_COLUMNS = ("description", "retired")
MAX_IMPORT_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class PriceListImport:
    """Parsed rows: the valid entries, and a report of bad rows and warnings."""

    entries: tuple[PriceListEntry, ...]
    errors: tuple[RowError, ...]
    warnings: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_price_list_csv(text: str, *, currency: str) -> PriceListImport:
    """Read a CSV price list (header row, comma separated) into entries or a per-row report.

    Headers are matched case-insensitively with spaces or hyphens read as underscores
    ("Buy Price" is `buy_price`). Unknown columns, missing required ones, duplicate SKUs
    (case-insensitive) and bad cells are all reported; nothing is guessed.
    """
    upload = CsvUpload.open(text, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    if upload.errors:
        return PriceListImport((), tuple(upload.errors))
    errors = upload.errors
    entries: list[PriceListEntry] = []
    warnings: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for index, row in upload.rows(MAX_IMPORT_ROWS):
        try:
            entry = PriceListEntry.parse(
                sku=row["sku"],
                name=row["name"],
                description=row.get("description"),
                buy_price=row["buy_price"],
                rrp=row["rrp"],
                billing_term=row["billing_term"],
                kind=row["kind"],
                retired=row.get("retired"),
                currency=currency,
            )
        except DomainValidationError as exc:
            errors.extend(RowError(index, e.field, e.code, e.message) for e in exc.errors)
            continue
        key = entry.sku.casefold()
        if key in first_row_of:
            errors.append(
                RowError(
                    index,
                    "sku",
                    ErrorCode.DUPLICATE,
                    f"SKU {entry.sku} already appears on row {first_row_of[key]}.",
                )
            )
            continue
        first_row_of[key] = index
        entries.append(entry)
        warnings.extend(RowError(index, w.field, w.code, w.message) for w in entry.warnings())
    return PriceListImport(tuple(entries), tuple(errors), tuple(warnings))
