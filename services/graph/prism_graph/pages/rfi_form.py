"""The Request for Information as an HTML form: its fields (named as the API's
`RfiAnswersInput`), and reading a posted form into the answers `submit_rfi_by_token` takes.

Only the shape is read here (a number is a number, a date a date); every rule of the answers
is the domain's (`RfiAnswers.parse`), so the page and the `submitRfi` mutation refuse the
same input with the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.rfi import NOTES_MAX_LENGTH, PHONE_MAX_LENGTH, MailPlatform

PLATFORM_NAMES = {
    MailPlatform.MICROSOFT_365: "Microsoft 365",
    MailPlatform.EXCHANGE_ON_PREMISES: "Exchange on premises",
    MailPlatform.GOOGLE_WORKSPACE: "Google Workspace",
    MailPlatform.OTHER: "Other",
}


@dataclass(frozen=True)
class Field:
    name: str  # the API's field name, also the input's name and id
    label: str
    kind: str = "text"  # an <input> type, or "textarea" / "select"
    required: bool = False
    hint: str | None = None
    autocomplete: str | None = None
    maxlength: int | None = None
    min: int | None = None
    rows: int = 3
    options: tuple[tuple[str, str], ...] = ()


SECTIONS: dict[str, tuple[Field, ...]] = {
    "contact": (
        Field("technicalContactName", "Name", required=True, autocomplete="name", maxlength=200),
        Field("technicalContactEmail", "E-mail address", "email", True, autocomplete="email"),
        Field(
            "technicalContactPhone", "Phone", "tel", autocomplete="tel", maxlength=PHONE_MAX_LENGTH
        ),
    ),
    "mail": (
        Field(
            "domains",
            "Mail domains",
            "textarea",
            True,
            hint="One a line, or separated by commas, e.g. contoso.com",
        ),
        Field("userCount", "Number of users", "number", True, min=1),
        Field(
            "mailPlatform",
            "Current mail platform",
            "select",
            True,
            options=tuple((p.value, name) for p, name in PLATFORM_NAMES.items()),
        ),
    ),
    "migration": (
        Field(
            "archiveSource",
            "Migrate from",
            hint="Needed when migrating, e.g. Exchange journal, Enterprise Vault, PST files",
            maxlength=200,
        ),
        Field("archiveSizeGb", "Archive size (GB)", "number", min=0),
    ),
    "planning": (
        Field("preferredGoLive", "Preferred go-live date", "date"),
        Field("notes", "Notes", "textarea", maxlength=NOTES_MAX_LENGTH, rows=4),
    ),
}
FIELD_NAMES = frozenset(
    {f.name for fields in SECTIONS.values() for f in fields} | {"migrateArchive"}
)


def form_field(error: FieldError) -> str | None:
    """The form field an answer's error is about ("answers.domains[1]" -> "domains")."""
    name = (error.field or "").removeprefix("answers.").split("[", 1)[0]
    return name if name in FIELD_NAMES else None


def values_of(form: Mapping[str, Any]) -> dict[str, str]:
    """What was typed, to show again beside the errors."""
    return {name: str(form.get(name, "")).strip() for name in FIELD_NAMES if form.get(name)}


def answers_of(form: Mapping[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The answers as `RfiAnswers.parse` takes them, and what cannot even be read as such."""
    errors: list[FieldError] = []

    def text(name: str) -> str | None:
        return form.get(name, "").strip() or None

    def whole_number(name: str, label: str) -> int | None:
        raw = text(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            errors.append(
                FieldError(f"answers.{name}", ErrorCode.INVALID, f"{label} must be a whole number.")
            )
            return None

    platform_raw = text("mailPlatform")
    platform = None
    if platform_raw is not None:
        try:
            platform = MailPlatform(platform_raw)
        except ValueError:
            errors.append(
                FieldError(
                    "answers.mailPlatform", ErrorCode.INVALID, "Choose one of the listed platforms."
                )
            )
    go_live_raw = text("preferredGoLive")
    go_live = None
    if go_live_raw is not None:
        try:
            go_live = date.fromisoformat(go_live_raw)
        except ValueError:
            errors.append(
                FieldError(
                    "answers.preferredGoLive",
                    ErrorCode.INVALID,
                    "Give the date as YYYY-MM-DD, e.g. 2026-03-01.",
                )
            )
    domains = [d.strip() for line in form.get("domains", "").splitlines() for d in line.split(",")]
    raw: dict[str, Any] = {
        "technical_contact_name": text("technicalContactName"),
        "technical_contact_email": text("technicalContactEmail"),
        "technical_contact_phone": text("technicalContactPhone"),
        "domains": [d for d in domains if d],
        "user_count": whole_number("userCount", "The number of users"),
        "mail_platform": platform,
        "migrate_archive": bool(form.get("migrateArchive")),
        "archive_source": text("archiveSource"),
        "archive_size_gb": whole_number("archiveSizeGb", "The archive size"),
        "preferred_go_live": go_live,
        "notes": text("notes"),
    }
    return raw, errors
