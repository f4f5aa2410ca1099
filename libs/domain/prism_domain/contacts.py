"""Rules for the contacts of an account (SPEC C1–C4, R1–R6, N1); pure, no I/O.

Two kinds of contact live side by side:

- *Contacts by type* (C1–C4): the people of a partner or customer account who receive the
  billing, statement and usage-reporting notices. A contact is a first name, a last name and
  an e-mail address, attached to one or more `ContactType`s.
- *Customer-account contacts* (R1–R6): the people who sign in to a customer's account, each
  with at most one `ContactRole` (`prism_domain.access`, where R7 decides what a role opens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from prism_domain.access import ContactRole
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.text import clean_email, clean_name, email_domain

NAME_MAX_LENGTH = 100
DISPLAY_NAME_MAX_LENGTH = 200
DEFAULT_CUSTOMER_CONTACT_LIMIT = 5  # R1, configurable per deployment


class ContactType(StrEnum):
    """C1: what a contact of an account is told about."""

    BILLING = "BILLING"  # new invoices, with a copy of the invoice
    STATEMENT = "STATEMENT"  # statement of account: outstanding payments
    USAGE_REPORTING = "USAGE_REPORTING"  # requests to submit usage reports (SPLA, Citrix CSP)


# Human names of the types, for messages.
TYPE_LABELS: dict[ContactType, str] = {
    ContactType.BILLING: "Billing",
    ContactType.STATEMENT: "Statement",
    ContactType.USAGE_REPORTING: "Usage Reporting",
}


@dataclass(frozen=True, slots=True)
class NewTypedContact:
    """C1: a contact by type, validated (N1)."""

    first_name: str
    last_name: str
    email: str

    @classmethod
    def parse(
        cls, *, first_name: str | None, last_name: str | None, email: str | None
    ) -> NewTypedContact:
        errors: list[FieldError] = []
        first = clean_name(
            first_name,
            field="firstName",
            label="First name",
            max_length=NAME_MAX_LENGTH,
            errors=errors,
        )
        last = clean_name(
            last_name,
            field="lastName",
            label="Last name",
            max_length=NAME_MAX_LENGTH,
            errors=errors,
        )
        address = clean_email(email, field="email", errors=errors)
        if errors:
            raise DomainValidationError(errors)
        return cls(first_name=first, last_name=last, email=address)


def check_type_removal(contact_type: ContactType, contacts_in_type: int) -> FieldError | None:
    """C3: a type keeps at least one contact; `contacts_in_type` counts the one to remove."""
    if contacts_in_type <= 1:
        return FieldError(
            "type",
            ErrorCode.LAST_CONTACT_OF_TYPE,
            f"Add another contact to {contact_type.value} before removing this one: "
            f"every contact type needs at least one contact.",
        )
    return None


@dataclass(frozen=True, slots=True)
class NewCustomerContact:
    """R4: a customer-account contact, validated (N1)."""

    display_name: str
    email: str

    @classmethod
    def parse(cls, *, display_name: str | None, email: str | None) -> NewCustomerContact:
        errors: list[FieldError] = []
        name = clean_name(
            display_name,
            field="displayName",
            label="Display name",
            max_length=DISPLAY_NAME_MAX_LENGTH,
            errors=errors,
        )
        address = clean_email(email, field="email", errors=errors)
        if errors:
            raise DomainValidationError(errors)
        return cls(display_name=name, email=address)


def check_contact_limit(existing: int, limit: int) -> FieldError | None:
    """R1: at most `limit` contacts per customer account; the next one is refused."""
    if existing >= limit:
        return FieldError(
            None,
            ErrorCode.LIMIT_REACHED,
            f"A customer account has at most {limit} contacts; delete one before adding another.",
        )
    return None


# R3: roles whose address must be on the ordering organisation's domain.
DOMAIN_BOUND_ROLES = frozenset({ContactRole.PRIMARY, ContactRole.BILLING})
# R6: roles whose holder is deleted only after an explicit confirmation.
CONFIRM_DELETE_ROLES = frozenset({ContactRole.BILLING, ContactRole.TECHNICAL})


def on_domain(email: str, domain: str) -> bool:
    """The address is on `domain` or one of its subdomains (`ann@eu.contoso.com`)."""
    host = email_domain(email).lower()
    domain = domain.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


def check_role_assignment(
    *,
    role: ContactRole,
    email: str,
    verified: bool,
    current_role: ContactRole,
    required_domain: str | None,
    ordered_by_partner: bool,
) -> FieldError | None:
    """R2, R3, R5 for giving `role` to one contact.

    `required_domain` is the partner's domain for a customer a partner ordered for, the
    customer's own domain for a direct customer (R3).
    """
    if role is current_role:
        return None
    if current_role is ContactRole.PRIMARY:
        return FieldError(
            "role",
            ErrorCode.NOT_ALLOWED,
            "An account keeps exactly one primary contact: make another contact primary instead.",
        )
    if role is ContactRole.UNASSIGNED:
        return None
    if not verified:
        return FieldError(
            "id",
            ErrorCode.NOT_VERIFIED,
            "Only verified contacts can be given a role; ask the contact to verify the address.",
        )
    return check_role_domain(
        role=role,
        email=email,
        required_domain=required_domain,
        ordered_by_partner=ordered_by_partner,
        field="role",
    )


def check_role_domain(
    *,
    role: ContactRole,
    email: str,
    required_domain: str | None,
    ordered_by_partner: bool,
    field: str,
) -> FieldError | None:
    """R3: a PRIMARY or BILLING contact's address is on the required domain, whether the
    role is being given (`field="role"`) or the holder's address is changing (`"email"`)."""
    if role not in DOMAIN_BOUND_ROLES:
        return None
    whose = "the partner's" if ordered_by_partner else "the customer's"
    if not required_domain:
        return FieldError(
            field,
            ErrorCode.WRONG_DOMAIN,
            f"{role.value} contacts must be on {whose} domain, and none is recorded.",
        )
    if not on_domain(email, required_domain):
        return FieldError(
            field,
            ErrorCode.WRONG_DOMAIN,
            f"{role.value} contacts must have an address on {whose} domain ({required_domain}).",
        )
    return None


def check_contact_deletion(role: ContactRole, *, confirmed: bool) -> FieldError | None:
    """R6: never the primary; BILLING and TECHNICAL only with `confirm: true`."""
    if role is ContactRole.PRIMARY:
        return FieldError(
            "id",
            ErrorCode.NOT_ALLOWED,
            "The primary contact cannot be deleted; make another contact primary first.",
        )
    if role in CONFIRM_DELETE_ROLES and not confirmed:
        return FieldError(
            "confirm",
            ErrorCode.CONFIRMATION_REQUIRED,
            f"This contact holds the {role.value} role: delete it again with confirm: true.",
        )
    return None


# Notices triggered by staff (C5): the inputs they carry, checked like any other (N1). -------

_CURRENCY = re.compile(r"^[A-Z]{3}$")
LINK_MAX_LENGTH = 2000
PROGRAM_NAME_MAX_LENGTH = 200


def clean_currency(value: str | None, *, field: str, errors: list[FieldError]) -> str:
    text = (value or "").strip().upper()
    if not _CURRENCY.match(text):
        errors.append(
            FieldError(field, ErrorCode.INVALID, "Give the currency as an ISO 4217 code (EUR).")
        )
    return text


def check_amount(value: Decimal, *, field: str, errors: list[FieldError]) -> None:
    if not value.is_finite() or value < 0:
        errors.append(FieldError(field, ErrorCode.OUT_OF_RANGE, "The amount must be 0 or more."))


def check_period(start: date, end: date, *, field: str, errors: list[FieldError]) -> None:
    if end < start:
        errors.append(
            FieldError(field, ErrorCode.OUT_OF_RANGE, "The period must not end before it starts.")
        )


def clean_link(value: str | None, *, field: str, errors: list[FieldError]) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if (
        len(text) > LINK_MAX_LENGTH
        or not text.startswith(("https://", "http://"))
        or any(ch.isspace() or ord(ch) < 32 for ch in text)
    ):
        errors.append(
            FieldError(
                field,
                ErrorCode.INVALID,
                f"Give an http(s) address of at most {LINK_MAX_LENGTH} characters.",
            )
        )
    return text
