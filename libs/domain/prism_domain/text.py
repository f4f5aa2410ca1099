"""Validation of free text shared by every aggregate: names, domains."""

from __future__ import annotations

import re

from prism_domain.errors import ErrorCode, FieldError

_WHITESPACE = re.compile(r"\s+")
# RFC 1035 labels, at least two of them, a non-numeric top-level label.
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)


def clean_name(
    value: str | None, *, field: str, label: str, max_length: int, errors: list[FieldError]
) -> str:
    """Trim and fold inner whitespace; record REQUIRED / TOO_LONG / INVALID into `errors`."""
    text = _WHITESPACE.sub(" ", value or "").strip()
    if not text:
        errors.append(FieldError(field, ErrorCode.REQUIRED, f"{label} is required."))
    elif len(text) > max_length:
        errors.append(
            FieldError(
                field, ErrorCode.TOO_LONG, f"{label} must be at most {max_length} characters."
            )
        )
    elif any(ord(ch) < 32 for ch in text):
        errors.append(FieldError(field, ErrorCode.INVALID, f"{label} contains control characters."))
    return text


def clean_domain(value: str | None, *, field: str, errors: list[FieldError]) -> str | None:
    """Normalise an internet domain (lower case, no trailing dot); `None` when empty."""
    text = (value or "").strip().lower().rstrip(".")
    if not text:
        return None
    if not _DOMAIN.match(text):
        errors.append(
            FieldError(field, ErrorCode.INVALID, f"'{text[:80]}' is not a valid domain name.")
        )
    return text
