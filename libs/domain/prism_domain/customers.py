"""Customers (SPEC T1, O1): an end customer of a partner, or directly of the distributor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prism_domain.errors import DomainValidationError, FieldError
from prism_domain.events import DomainEvent, register
from prism_domain.text import clean_domain, clean_name

NAME_MAX_LENGTH = 200


class CustomerStatus(StrEnum):
    """O2: a prospect has no submitted order; in progress until onboarding completes."""

    PROSPECT = "PROSPECT"
    IN_PROGRESS = "IN_PROGRESS"
    ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A validated request to create a customer."""

    name: str
    domain: str | None
    status: CustomerStatus

    @classmethod
    def parse(
        cls, *, name: str | None, domain: str | None, status: CustomerStatus | None = None
    ) -> NewCustomer:
        errors: list[FieldError] = []
        clean = clean_name(
            name, field="name", label="Company name", max_length=NAME_MAX_LENGTH, errors=errors
        )
        clean_dom = clean_domain(domain, field="domain", errors=errors)
        if errors:
            raise DomainValidationError(errors)
        return cls(name=clean, domain=clean_dom, status=status or CustomerStatus.PROSPECT)


@register
@dataclass(frozen=True, kw_only=True)
class CustomerCreated(DomainEvent):
    type = "customer.created"
    version = 1
    aggregate_type = "customer"

    partner_id: int | None
    name: str
    domain: str | None
    status: str
