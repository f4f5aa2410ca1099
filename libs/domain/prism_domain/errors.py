"""Error codes owned by the domain; every API translates them, none invents its own."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Machine-readable reasons for an expected failure (a mutation's `errors[].code`)."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    DUPLICATE = "DUPLICATE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    THROTTLED = "THROTTLED"
    EXPIRED = "EXPIRED"
    ALREADY_USED = "ALREADY_USED"
    REPLACED = "REPLACED"  # a single-use link superseded by a newer one (a re-send)
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 - an error code
    NOT_ALLOWED = "NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    BELOW_COST = "BELOW_COST"
    RETIRED = "RETIRED"
    # Contacts (issue 4: C3, R1, R3, R5, R6)
    LAST_CONTACT_OF_TYPE = "LAST_CONTACT_OF_TYPE"
    LIMIT_REACHED = "LIMIT_REACHED"
    WRONG_DOMAIN = "WRONG_DOMAIN"
    NOT_VERIFIED = "NOT_VERIFIED"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    # PSA sync (issue 7: S1-S3)
    PSA_NOT_CONNECTED = "PSA_NOT_CONNECTED"
    PSA_UNKNOWN_USER = "PSA_UNKNOWN_USER"
    PSA_WRONG_SECRET = "PSA_WRONG_SECRET"  # noqa: S105 - an error code
    PSA_USER_LOCKED = "PSA_USER_LOCKED"
    PSA_USER_INACTIVE = "PSA_USER_INACTIVE"
    PSA_INVALID_INTEGRATION_CODE = "PSA_INVALID_INTEGRATION_CODE"
    PSA_PERMISSION_DENIED = "PSA_PERMISSION_DENIED"
    PSA_UNAVAILABLE = "PSA_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One expected failure, tied to the input field that caused it (`None`: the whole input)."""

    field: str | None
    code: ErrorCode
    message: str


class DomainValidationError(Exception):
    """Raised by domain constructors when input breaks a rule; carries every field error found."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field or 'input'}: {e.message}" for e in errors))
        self.errors = errors
