"""Rules for staff users and API clients (SPEC T2)."""

from __future__ import annotations

from dataclasses import dataclass

from prism_domain.access import UserRole
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.text import clean_email, clean_name

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128


def check_password(
    password: str | None, *, email: str, field: str = "password"
) -> list[FieldError]:
    """A password long enough to resist guessing; length is what matters (NIST SP 800-63B)."""
    text = password or ""
    if len(text) < PASSWORD_MIN_LENGTH:
        return [
            FieldError(
                field,
                ErrorCode.WEAK_PASSWORD,
                f"Use at least {PASSWORD_MIN_LENGTH} characters.",
            )
        ]
    if len(text) > PASSWORD_MAX_LENGTH:
        return [
            FieldError(field, ErrorCode.TOO_LONG, f"Use at most {PASSWORD_MAX_LENGTH} characters.")
        ]
    if text.strip().lower() == email.lower() or len(set(text)) < 4:
        return [FieldError(field, ErrorCode.WEAK_PASSWORD, "Choose a less guessable password.")]
    return []


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    display_name: str
    role: UserRole

    @classmethod
    def parse(cls, *, email: str | None, display_name: str | None, role: UserRole) -> NewUser:
        errors: list[FieldError] = []
        clean = clean_email(email, field="email", errors=errors)
        name = clean_name(
            display_name, field="displayName", label="Name", max_length=200, errors=errors
        )
        if errors:
            raise DomainValidationError(errors)
        return cls(email=clean, display_name=name, role=role)
