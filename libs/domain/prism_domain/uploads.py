"""What every CSV upload shares (price lists, usage): header keys and row errors."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
