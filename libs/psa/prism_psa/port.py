"""The one port the sync talks to a PSA through (issue 7 item 11).

Planning (`products.planning`) works on these PSA-neutral types only; an adapter per PSA
(`psa.autotask`, `psa.connectwise`) translates them to its API and its errors to
the `PsaError` tree below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from prism_domain.sync import ConnectionProblem, PsaKind


@dataclass(frozen=True, slots=True)
class PsaService:
    """A billable service in the PSA's catalogue."""

    id: int
    name: str
    unit_price: Decimal | None
    unit_cost: Decimal | None
    active: bool
    description: str | None = None
    invoice_description: str | None = None


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


@dataclass(frozen=True, slots=True)
class PsaContract:
    """What the invoice sync needs to know of a contract (S4, S6)."""

    id: int
    active: bool
    recurring: bool
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class ContractFacts:
    """What customer mapping checks of a contract (S4): whose it is, whether it is the kind
    the sync writes to (Autotask: Recurring Service; ConnectWise: an agreement that bills its
    additions) and whether it is in force on the partner's today."""

    id: int
    name: str
    company_id: int | None
    recurring_service: bool
    active: bool


@dataclass(frozen=True, slots=True)
class PsaContractService:
    """A service on a contract (Autotask: a ContractService)."""

    id: int
    contract_id: int
    service_id: int


@dataclass(frozen=True, slots=True)
class ChoicePage:
    """One page of a live picker, in the PSA's order (ascending id): the next page starts
    after the last entry's id; `has_more`: the PSA says more entries match."""

    choices: list[Choice]
    has_more: bool


#: Entries per picker page: the default, and the most the PSA serves in one answer.
PICKER_PAGE = 50
PICKER_PAGE_MAX = 500


@dataclass(frozen=True, slots=True)
class UnitRow:
    """The units a contract service bills from `start` to `end` (inclusive), at the price
    and cost per unit the PSA holds for them (None: not given)."""

    contract_service_id: int
    contract_id: int
    service_id: int
    start: date
    end: date
    units: int
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class NewAdjustment:
    """A unit change of a service on a contract from `effective` on (a delta: never repeat it
    blindly). Without `contract_service_id`, the PSA adds the service to the contract."""

    contract_id: int
    service_id: int
    contract_service_id: int | None
    effective: date
    unit_change: int
    unit_price: Decimal
    unit_cost: Decimal


class ErrorCode(StrEnum):
    """The S6 error kinds an item can end with; each has its action in the message."""

    DATE_OUTSIDE_CONTRACT = "DATE_OUTSIDE_CONTRACT"
    CONTRACT_NOT_USABLE = "CONTRACT_NOT_USABLE"
    UNAUTHORIZED = "UNAUTHORIZED"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    PSA_RULE = "PSA_RULE"
    NOT_RECONCILED = "NOT_RECONCILED"
    UNAVAILABLE = "UNAVAILABLE"
    UNEXPECTED = "UNEXPECTED"


class PsaError(Exception):
    """A PSA call failed; `message` is for the partner, never carries credentials."""

    code: ErrorCode = ErrorCode.UNEXPECTED


class PsaUnauthorized(PsaError):
    """The PSA refused the credentials mid-sync (changed, user locked, security level).

    `problem` says which part was refused, for the connection's status (S1); `psa` whose
    connection it is.
    """

    code = ErrorCode.UNAUTHORIZED

    def __init__(
        self,
        message: str,
        problem: ConnectionProblem = ConnectionProblem.WRONG_SECRET,
        psa: PsaKind = PsaKind.AUTOTASK,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.psa = psa


class PsaNameClash(PsaError):
    """A service with the name exists and was not created by Prism."""


class PsaRuleError(PsaError):
    """The PSA refused the record by one of its rules."""

    code = ErrorCode.PSA_RULE


class PsaContractRule(PsaRuleError):
    """The contract refused a unit change: its dates, its status or its type (S6)."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code


class PsaUnavailable(PsaError):
    """The PSA could not be reached or throttled us; the run may be retried.

    For a write, the PSA may have done it anyway (a lost answer): read before writing again.
    """

    code = ErrorCode.UNAVAILABLE


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


class ContractPort(Protocol):
    """What the invoice sync reads and writes (S5, S10). Reads are batched: one query per
    500 rows, whatever the number of contracts, services or days asked about (N3)."""

    def contracts_by_id(self, ids: Iterable[int]) -> dict[int, PsaContract]: ...

    def contract_services(self, contract_ids: Iterable[int]) -> list[PsaContractService]: ...

    def unit_rows(self, contract_ids: Iterable[int], start: date, end: date) -> list[UnitRow]:
        """Every unit row of those contracts' services overlapping [start, end]."""
        ...

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int: ...

    def create_adjustment(self, new: NewAdjustment) -> int | None:
        """Never retried by the adapter: on `PsaUnavailable` the change may be there."""
        ...

    def close(self) -> None: ...


class PsaDirectory(Protocol):
    """Reads behind the settings and mapping screens (S1, S2, S4)."""

    def check(self) -> str:
        """Test the credentials (zone, authentication, integration code); the zone's URL."""
        ...

    def recurring_billing_codes(self) -> list[Choice]: ...

    def companies(
        self,
        search: str | None,
        *,
        vendors_only: bool = False,
        first: int = PICKER_PAGE,
        after: int | None = None,
    ) -> ChoicePage:
        """Active companies whose name contains `search`, `first` of them after id `after`."""
        ...

    def count_companies(self, search: str | None, *, vendors_only: bool = False) -> int: ...

    def recurring_contracts(
        self,
        company_id: int | None,
        search: str | None,
        *,
        today: date,
        first: int = PICKER_PAGE,
        after: int | None = None,
    ) -> ChoicePage:
        """Active Recurring Service contracts in force on `today` (the partner's today)."""
        ...

    def count_recurring_contracts(
        self, company_id: int | None, search: str | None, *, today: date
    ) -> int: ...

    def company(self, id: int) -> Choice | None: ...

    def company_candidates(
        self, words: list[str], domain_stems: list[str], *, limit: int
    ) -> list[Choice]:
        """Active companies whose name contains one of `words` or whose web address contains
        one of `domain_stems` (one query, at most `limit`); `detail` is the web address."""
        ...

    def contract(self, id: int, today: date) -> ContractFacts | None:
        """One contract by id, as customer mapping checks it; None when there is none."""
        ...

    def service(self, id: int) -> PsaService | None: ...
