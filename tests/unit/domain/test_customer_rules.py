from __future__ import annotations

import pytest

from prism_domain.customers import CustomerStatus, NewCustomer
from prism_domain.errors import DomainValidationError, ErrorCode

pytestmark = pytest.mark.unit


def errors_of(**kwargs: str | None) -> dict[str | None, ErrorCode]:
    with pytest.raises(DomainValidationError) as info:
        NewCustomer.parse(**kwargs)  # type: ignore[arg-type]
    return {e.field: e.code for e in info.value.errors}


def test_a_new_customer_is_a_prospect_with_a_tidy_name_and_domain() -> None:
    new = NewCustomer.parse(name="  Fabrikam,\t Inc. ", domain=" Fabrikam.EXAMPLE. ")
    assert new.name == "Fabrikam, Inc."
    assert new.domain == "fabrikam.example"
    assert new.status is CustomerStatus.PROSPECT


def test_the_domain_is_optional() -> None:
    assert NewCustomer.parse(name="Acme", domain="  ").domain is None


@pytest.mark.parametrize("name", [None, "", "   \n "])
def test_a_name_is_required(name: str | None) -> None:
    assert errors_of(name=name, domain=None) == {"name": ErrorCode.REQUIRED}


def test_a_name_is_bounded() -> None:
    assert errors_of(name="x" * 201, domain=None) == {"name": ErrorCode.TOO_LONG}
    assert NewCustomer.parse(name="x" * 200, domain=None).name == "x" * 200


def test_control_characters_are_refused() -> None:
    assert errors_of(name="Acme\x00Corp", domain=None) == {"name": ErrorCode.INVALID}


@pytest.mark.parametrize(
    "domain",
    ["bad domain", "nodot", "-lead.example", "a..b.example", "x" * 250 + ".com", "1.2.3.4"],
)
def test_a_malformed_domain_is_refused(domain: str) -> None:
    assert errors_of(name="Acme", domain=domain) == {"domain": ErrorCode.INVALID}


def test_every_field_error_is_reported_at_once() -> None:
    assert errors_of(name="", domain="bad domain") == {
        "name": ErrorCode.REQUIRED,
        "domain": ErrorCode.INVALID,
    }
