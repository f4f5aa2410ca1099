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


EMAIL_MAX_LENGTH = 254
_LOCAL_PART = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")


def clean_email(value: str | None, *, field: str, errors: list[FieldError]) -> str:
    """Trim and lower-case an e-mail address; record REQUIRED / TOO_LONG / INVALID."""
    text = (value or "").strip().lower()
    if not text:
        errors.append(FieldError(field, ErrorCode.REQUIRED, "E-mail address is required."))
        return text
    if len(text) > EMAIL_MAX_LENGTH:
        errors.append(
            FieldError(
                field,
                ErrorCode.TOO_LONG,
                f"E-mail address must be at most {EMAIL_MAX_LENGTH} characters.",
            )
        )
        return text
    local, sep, domain = text.rpartition("@")
    if (
        not sep
        or not _LOCAL_PART.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or not _DOMAIN.match(domain)
    ):
        errors.append(
            FieldError(field, ErrorCode.INVALID, f"'{text[:80]}' is not a valid e-mail address.")
        )
    return text


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]
