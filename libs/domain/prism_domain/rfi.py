"""The Request for Information (SPEC O5, O6): what the implementation team needs to onboard a
new customer, asked of the customer's implementation lead after an order is submitted.

The fields follow what an e-mail security onboarding needs: who the technical contact is,
which domains carry mail, how many users, the current mail platform, and whether existing
mail or an archive must be migrated (and from where, how much). An RFI link is single-use
and expires: once the answers are in, the link is spent; the partner may still complete the
form on the customer's behalf only while it is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.text import clean_domain, clean_email, clean_name

MAX_DOMAINS = 50
MAX_USERS = 1_000_000
NOTES_MAX_LENGTH = 2000
PHONE_MAX_LENGTH = 40


class MailPlatform(StrEnum):
    MICROSOFT_365 = "MICROSOFT_365"
    EXCHANGE_ON_PREMISES = "EXCHANGE_ON_PREMISES"
    GOOGLE_WORKSPACE = "GOOGLE_WORKSPACE"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class RfiAnswers:
    technical_contact_name: str
    technical_contact_email: str
    technical_contact_phone: str | None
    domains: tuple[str, ...]
    user_count: int
    mail_platform: MailPlatform
    migrate_archive: bool
    archive_source: str | None
    archive_size_gb: int | None
    preferred_go_live: date | None
    notes: str | None

    @classmethod
    def parse(
        cls,
        *,
        technical_contact_name: str | None,
        technical_contact_email: str | None,
        technical_contact_phone: str | None,
        domains: list[str] | None,
        user_count: int | None,
        mail_platform: MailPlatform | None,
        migrate_archive: bool,
        archive_source: str | None,
        archive_size_gb: int | None,
        preferred_go_live: date | None,
        notes: str | None,
    ) -> RfiAnswers:
        """Every problem is a `FieldError` named after its argument (camel case later)."""
        errors: list[FieldError] = []
        name = clean_name(
            technical_contact_name,
            field="technical_contact_name",
            label="The technical contact's name",
            max_length=200,
            errors=errors,
        )
        email = clean_email(technical_contact_email, field="technical_contact_email", errors=errors)
        phone = (technical_contact_phone or "").strip() or None
        if phone is not None and len(phone) > PHONE_MAX_LENGTH:
            errors.append(
                FieldError(
                    "technical_contact_phone",
                    ErrorCode.TOO_LONG,
                    f"The phone number must be at most {PHONE_MAX_LENGTH} characters.",
                )
            )
        clean_domains: list[str] = []
        for index, raw in enumerate(domains or []):
            domain = clean_domain(raw, field=f"domains[{index}]", errors=errors)
            if domain is not None and domain not in clean_domains:
                clean_domains.append(domain)
        if not clean_domains and not any(e.field and e.field.startswith("domains") for e in errors):
            errors.append(
                FieldError("domains", ErrorCode.REQUIRED, "Name at least one mail domain.")
            )
        elif len(clean_domains) > MAX_DOMAINS:
            errors.append(
                FieldError("domains", ErrorCode.OUT_OF_RANGE, f"At most {MAX_DOMAINS} domains.")
            )
        if user_count is None:
            errors.append(FieldError("user_count", ErrorCode.REQUIRED, "How many users?"))
        elif not 1 <= user_count <= MAX_USERS:
            errors.append(
                FieldError(
                    "user_count",
                    ErrorCode.OUT_OF_RANGE,
                    f"The number of users must be between 1 and {MAX_USERS}.",
                )
            )
        if mail_platform is None:
            errors.append(
                FieldError("mail_platform", ErrorCode.REQUIRED, "Name the current mail platform.")
            )
        source = (archive_source or "").strip() or None
        if migrate_archive:
            if source is None:
                errors.append(
                    FieldError(
                        "archive_source",
                        ErrorCode.REQUIRED,
                        "Name the archive to migrate from (e.g. Exchange journal, Enterprise "
                        "Vault, PST files).",
                    )
                )
            elif len(source) > 200:
                errors.append(
                    FieldError("archive_source", ErrorCode.TOO_LONG, "At most 200 characters.")
                )
            if archive_size_gb is not None and archive_size_gb < 0:
                errors.append(
                    FieldError(
                        "archive_size_gb", ErrorCode.OUT_OF_RANGE, "The size cannot be negative."
                    )
                )
        note = (notes or "").strip() or None
        if note is not None and len(note) > NOTES_MAX_LENGTH:
            errors.append(
                FieldError(
                    "notes",
                    ErrorCode.TOO_LONG,
                    f"Notes must be at most {NOTES_MAX_LENGTH} characters.",
                )
            )
        if errors or user_count is None or mail_platform is None:
            raise DomainValidationError(errors)
        return cls(
            technical_contact_name=name,
            technical_contact_email=email,
            technical_contact_phone=phone,
            domains=tuple(clean_domains),
            user_count=user_count,
            mail_platform=mail_platform,
            migrate_archive=migrate_archive,
            archive_source=source if migrate_archive else None,
            archive_size_gb=archive_size_gb if migrate_archive else None,
            preferred_go_live=preferred_go_live,
            notes=note,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "technical_contact_name": self.technical_contact_name,
            "technical_contact_email": self.technical_contact_email,
            "technical_contact_phone": self.technical_contact_phone,
            "domains": list(self.domains),
            "user_count": self.user_count,
            "mail_platform": self.mail_platform.value,
            "migrate_archive": self.migrate_archive,
            "archive_source": self.archive_source,
            "archive_size_gb": self.archive_size_gb,
            "preferred_go_live": (
                self.preferred_go_live.isoformat() if self.preferred_go_live else None
            ),
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RfiAnswers:
        go_live = raw.get("preferred_go_live")
        return cls(
            technical_contact_name=raw["technical_contact_name"],
            technical_contact_email=raw["technical_contact_email"],
            technical_contact_phone=raw.get("technical_contact_phone"),
            domains=tuple(raw.get("domains") or ()),
            user_count=int(raw["user_count"]),
            mail_platform=MailPlatform(raw["mail_platform"]),
            migrate_archive=bool(raw.get("migrate_archive")),
            archive_source=raw.get("archive_source"),
            archive_size_gb=raw.get("archive_size_gb"),
            preferred_go_live=date.fromisoformat(go_live) if go_live else None,
            notes=raw.get("notes"),
        )


def check_link(
    *, completed_at: datetime | None, expires_at: datetime, now: datetime
) -> FieldError | None:
    """O6: a link answers once, and only until it expires."""
    if completed_at is not None:
        return FieldError(
            "token",
            ErrorCode.ALREADY_USED,
            "This Request for Information has already been completed; ask your partner for "
            "any change.",
        )
    if now >= expires_at:
        return FieldError(
            "token",
            ErrorCode.EXPIRED,
            "This Request for Information link has expired; ask your partner to complete the "
            "form or to send a new link.",
        )
    return None
