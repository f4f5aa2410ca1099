"""What every CSV upload shares (price lists, usage): the header check, the rows, row errors.

A file has a header row, then one row per record, comma separated. Headers are matched
case-insensitively, spaces or hyphens read as underscores ("Buy Price" is `buy_price`).
Unknown, missing and repeated columns are reported on row 1; a row with the wrong number of
cells, or past the row limit, on its own row. Blank rows (often at the end of a spreadsheet
export) are passed over.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from prism_domain.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem in the file: `row` as a spreadsheet numbers it (the header is row 1)."""

    row: int
    column: str | None
    code: ErrorCode
    message: str


def column_key(header: str) -> str:
    """A header as a column key: case-insensitive, spaces and hyphens read as underscores."""
    return re.sub(r"[\s-]+", "_", header.strip().lstrip("\ufeff").lower())


@dataclass
class CsvUpload:
    """A CSV file being read: `errors` collects the file's problems as its rows are read."""

    keys: list[str]
    errors: list[RowError] = field(default_factory=list)
    _reader: Iterator[list[str]] = field(default_factory=lambda: iter(()))

    @classmethod
    def open(cls, text: str, *, required: Sequence[str], optional: Sequence[str] = ()) -> CsvUpload:
        """Read the header and check it; `errors` is non-empty when the file cannot be read."""
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            return cls([], [RowError(1, None, ErrorCode.REQUIRED, "The file is empty.")])
        keys = [column_key(h) for h in header]
        upload = cls(keys, [], reader)
        expected = ", ".join(required) + (
            f" and optionally {', '.join(optional)}" if optional else ""
        )
        known = set(required) | set(optional)
        for key, raw in zip(keys, header, strict=True):
            if key not in known:
                name = raw.strip()[:60]
                upload.fail(
                    1, name, ErrorCode.INVALID, f"Unknown column '{name}'; expected {expected}."
                )
        for key in required:
            if key not in keys:
                upload.fail(1, key, ErrorCode.REQUIRED, f"Column '{key}' is missing.")
        if len(set(keys)) != len(keys):
            upload.fail(1, None, ErrorCode.DUPLICATE, "A column appears twice.")
        return upload

    def fail(self, row: int, column: str | None, code: ErrorCode, message: str) -> None:
        self.errors.append(RowError(row, column, code, message))

    def rows(self, max_rows: int) -> Iterator[tuple[int, dict[str, str]]]:
        """Each non-blank row with its spreadsheet number, as cells by column key; a row
        with the wrong number of cells is reported and skipped, and reading stops (reported)
        after `max_rows` rows."""
        for index, cells in enumerate(self._reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if index - 1 > max_rows:
                self.fail(index, None, ErrorCode.TOO_LONG, f"More than {max_rows} rows.")
                return
            if len(cells) != len(self.keys):
                found = f"Expected {len(self.keys)} cells, found {len(cells)}."
                self.fail(index, None, ErrorCode.INVALID, found)
                continue
            yield index, dict(zip(self.keys, cells, strict=True))
