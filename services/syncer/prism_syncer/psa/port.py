"""The one port the sync talks to a PSA through (issue 7 item 11).

Planning (`products.planning`) works on these PSA-neutral types only; an adapter per PSA
(`psa.autotask` today, ConnectWise Manage later) translates them to its API and its errors to
the `PsaError` tree below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from prism_domain.sync import ConnectionProblem


@dataclass(frozen=True, slots=True)
class PsaService:
    """A billable service in the PSA's catalogue."""

    id: int
    name: str
    unit_price: Decimal | None
    unit_cost: Decimal | None
    active: bool


@dataclass(frozen=True, slots=True)
class NewService:
    name: str
    description: str
    invoice_description: str
    unit_price: Decimal
    unit_cost: Decimal
    billing_code_id: int
    vendor_company_id: int | None


@dataclass(frozen=True, slots=True)
class FieldLimits:
    """How long the PSA lets a service's texts be (S3 truncation)."""

    description: int
    invoice_description: int


@dataclass(frozen=True, slots=True)
class Choice:
    """One entry of a live picker (billing codes, companies, contracts)."""

    id: int
    name: str
    detail: str | None = None


class PsaError(Exception):
    """A PSA call failed; `message` is for the partner, never carries credentials."""


class PsaUnauthorized(PsaError):
    """The PSA refused the credentials mid-sync (changed, user locked, security level)."""


class PsaNameClash(PsaError):
    """A service with the name exists and was not created by Prism."""


class PsaRuleError(PsaError):
    """The PSA refused the record by one of its rules."""


class PsaUnavailable(PsaError):
    """The PSA could not be reached or throttled us; the run may be retried."""


class ConnectionCheckFailed(PsaError):
    def __init__(self, problem: ConnectionProblem, detail: str = "") -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.detail = detail


class PsaPort(Protocol):
    def limits(self) -> FieldLimits: ...

    def services_by_id(self, ids: Iterable[int]) -> dict[int, PsaService]: ...

    def services_by_name(self, names: Iterable[str]) -> dict[str, PsaService]:
        """Keyed by the casefolded name (PSA names are unique case-insensitively)."""
        ...

    def create_service(self, new: NewService) -> int: ...

    def update_service_prices(self, id: int, unit_price: Decimal, unit_cost: Decimal) -> None:
        """Only price and cost; activity, name and texts stay as the partner left them."""
        ...


class PsaDirectory(Protocol):
    """Reads behind the settings and mapping screens (S1, S2, S4)."""

    def check(self) -> str:
        """Test the credentials (zone, authentication, integration code); the zone's URL."""
        ...

    def recurring_billing_codes(self) -> list[Choice]: ...

    def companies(self, search: str | None, *, vendors_only: bool = False) -> list[Choice]: ...

    def recurring_contracts(self, company_id: int | None, search: str | None) -> list[Choice]: ...

    def company(self, id: int) -> Choice | None: ...

    def service(self, id: int) -> PsaService | None: ...
