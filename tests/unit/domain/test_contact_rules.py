"""Pure rules of contacts (SPEC C3, R1, R3, R5, R6, N1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from prism_domain.access import ContactRole
from prism_domain.contacts import (
    ContactType,
    NewCustomerContact,
    NewTypedContact,
    check_amount,
    check_contact_deletion,
    check_contact_limit,
    check_period,
    check_role_assignment,
    check_type_removal,
    clean_currency,
    clean_link,
    on_domain,
)
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError

pytestmark = pytest.mark.unit


def codes(errors: list[FieldError]) -> list[tuple[str | None, ErrorCode]]:
    return [(e.field, e.code) for e in errors]


def test_a_typed_contact_is_trimmed_and_lower_cased() -> None:
    new = NewTypedContact.parse(first_name="  Ann ", last_name=" van  Dyk", email=" A@B.example ")
    assert (new.first_name, new.last_name, new.email) == ("Ann", "van Dyk", "a@b.example")


def test_every_bad_field_of_a_typed_contact_is_reported() -> None:
    with pytest.raises(DomainValidationError) as caught:
        NewTypedContact.parse(first_name="", last_name="x" * 101, email="nope")
    assert codes(caught.value.errors) == [
        ("firstName", ErrorCode.REQUIRED),
        ("lastName", ErrorCode.TOO_LONG),
        ("email", ErrorCode.INVALID),
    ]


def test_a_customer_contact_needs_a_name_and_an_address() -> None:
    with pytest.raises(DomainValidationError) as caught:
        NewCustomerContact.parse(display_name=" ", email="a@" + "b" * 260 + ".example")
    assert codes(caught.value.errors) == [
        ("displayName", ErrorCode.REQUIRED),
        ("email", ErrorCode.TOO_LONG),
    ]


@pytest.mark.parametrize("contact_type", list(ContactType))
def test_the_last_contact_of_a_type_stays(contact_type: ContactType) -> None:
    refused = check_type_removal(contact_type, 1)
    assert refused is not None and refused.code is ErrorCode.LAST_CONTACT_OF_TYPE
    assert refused.message.startswith(
        f"Add another contact to {contact_type.value} before removing this one"
    )
    assert check_type_removal(contact_type, 2) is None


def test_the_contact_limit() -> None:
    assert check_contact_limit(4, 5) is None
    refused = check_contact_limit(5, 5)
    assert refused is not None and refused.code is ErrorCode.LIMIT_REACHED
    assert check_contact_limit(2, 3) is None and check_contact_limit(3, 3) is not None


@pytest.mark.parametrize(
    ("email", "domain", "expected"),
    [
        ("ann@contoso.com", "contoso.com", True),
        ("ann@EU.Contoso.com", "contoso.com", True),
        ("ann@notcontoso.com", "contoso.com", False),
        ("ann@contoso.com.evil.example", "contoso.com", False),
    ],
)
def test_on_domain(email: str, domain: str, expected: bool) -> None:
    assert on_domain(email, domain) is expected


def assign(role: ContactRole, **overrides: object) -> FieldError | None:
    args: dict[str, object] = {
        "role": role,
        "email": "pat@partner.example",
        "verified": True,
        "current_role": ContactRole.UNASSIGNED,
        "required_domain": "partner.example",
        "ordered_by_partner": True,
    }
    args.update(overrides)
    return check_role_assignment(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", [ContactRole.PRIMARY, ContactRole.BILLING])
def test_primary_and_billing_are_on_the_ordering_organisations_domain(role: ContactRole) -> None:
    assert assign(role) is None
    wrong = assign(role, email="pat@customer.example")
    assert wrong is not None and (wrong.field, wrong.code) == ("role", ErrorCode.WRONG_DOMAIN)
    assert "partner's" in wrong.message
    direct = assign(role, ordered_by_partner=False, required_domain=None)
    assert direct is not None and direct.code is ErrorCode.WRONG_DOMAIN


@pytest.mark.parametrize("role", [ContactRole.SUPPORT, ContactRole.TECHNICAL])
def test_support_and_technical_may_be_anywhere(role: ContactRole) -> None:
    assert assign(role, email="tech@elsewhere.example") is None


def test_only_verified_contacts_get_roles_but_anyone_may_lose_one() -> None:
    refused = assign(ContactRole.SUPPORT, verified=False)
    assert refused is not None and refused.code is ErrorCode.NOT_VERIFIED
    assert assign(ContactRole.UNASSIGNED, verified=False, current_role=ContactRole.SUPPORT) is None


def test_the_primary_keeps_its_role_until_another_takes_it() -> None:
    refused = assign(ContactRole.BILLING, current_role=ContactRole.PRIMARY)
    assert refused is not None and refused.code is ErrorCode.NOT_ALLOWED
    assert assign(ContactRole.PRIMARY, current_role=ContactRole.PRIMARY) is None


@pytest.mark.parametrize(
    ("role", "confirmed", "expected"),
    [
        (ContactRole.PRIMARY, True, ErrorCode.NOT_ALLOWED),
        (ContactRole.BILLING, False, ErrorCode.CONFIRMATION_REQUIRED),
        (ContactRole.TECHNICAL, False, ErrorCode.CONFIRMATION_REQUIRED),
        (ContactRole.BILLING, True, None),
        (ContactRole.TECHNICAL, True, None),
        (ContactRole.SUPPORT, False, None),
        (ContactRole.UNASSIGNED, False, None),
    ],
)
def test_deletion(role: ContactRole, confirmed: bool, expected: ErrorCode | None) -> None:
    refused = check_contact_deletion(role, confirmed=confirmed)
    assert (refused.code if refused else None) is expected


def test_notice_inputs() -> None:
    errors: list[FieldError] = []
    assert clean_currency(" eur ", field="currency", errors=errors) == "EUR"
    check_amount(Decimal("0"), field="amountDue", errors=errors)
    check_period(date(2026, 11, 1), date(2026, 11, 1), field="periodEnd", errors=errors)
    assert clean_link(" https://x.example/a ", field="link", errors=errors) == "https://x.example/a"
    assert clean_link("  ", field="link", errors=errors) is None
    assert errors == []
    clean_currency("EURO", field="currency", errors=errors)
    check_amount(Decimal("NaN"), field="amountDue", errors=errors)
    check_period(date(2026, 11, 2), date(2026, 11, 1), field="periodEnd", errors=errors)
    clean_link("ftp://x.example", field="link", errors=errors)
    clean_link("https://x.example/a b", field="link", errors=errors)
    assert codes(errors) == [
        ("currency", ErrorCode.INVALID),
        ("amountDue", ErrorCode.OUT_OF_RANGE),
        ("periodEnd", ErrorCode.OUT_OF_RANGE),
        ("link", ErrorCode.INVALID),
        ("link", ErrorCode.INVALID),
    ]
