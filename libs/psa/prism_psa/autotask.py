"""The Autotask adapter behind `PsaPort` and `PsaDirectory` (issue 7 item 11).

Every call goes through `autotask_client`; its errors become the port's `PsaError` tree, with
the seed's texts and actions (S6). Reads are batched (one query per 500 ids or names), so a
sync costs the fewest calls its work allows (N3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from itertools import islice

from autotask_client import (
    AuthenticationError,
    AutotaskClient,
    AutotaskError,
    ContractRuleError,
    ContractService,
    ContractServiceAdjustment,
    DuplicateKeyError,
    EntityFields,
    InvalidIntegrationCodeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    Service,
    TransportError,
    UserInactiveError,
    UserLockedError,
    ValidationError,
    ZoneNotFoundError,
)
from autotask_client import query as q
from prism_domain.sync import PROBLEM_MESSAGES, ConnectionProblem, PsaKind
from prism_psa.port import (
    PICKER_PAGE,
    Choice,
    ChoicePage,
    ConnectionCheckFailed,
    ContractFacts,
    ErrorCode,
    FieldLimits,
    NewAdjustment,
    NewService,
    PsaContract,
    PsaContractRule,
    PsaContractService,
    PsaError,
    PsaNameClash,
    PsaRuleError,
    PsaService,
    PsaUnauthorized,
    PsaUnavailable,
    UnitRow,
)

#: The seed's limits of Service.description and Service.invoiceDescription ("AutoTask Service
#: field is truncated"); constant, so a sync spends no call on metadata to learn them.
AUTOTASK_LIMITS = FieldLimits(description=400, invoice_description=1000)
RECURRING_SERVICE_CONTRACT = 7  # documented: Contract.contractType 7 = Recurring Service
RECURRING_CODE_LABEL = "Recurring Contract Service Code"
VENDOR_LABEL = "Vendor"
ACTIVE_CONTRACT_STATUS = 1

UNAUTHORIZED_MESSAGE = (
    "Autotask answered Unauthorized. The API user may not be authorised because its "
    "credentials changed, the user is locked, or its security level is not configured "
    "correctly: check the Autotask credentials on the Connections screen and that the API "
    "user is not locked (Admin > Resources (Users), Edit, uncheck Locked, Save & Close)."
)
USER_LOCKED_MESSAGE = "Autotask answered Unauthorized. " + PROBLEM_MESSAGES[
    ConnectionProblem.USER_LOCKED
].replace("enter the new one here", "enter the new one on the Connections screen")
USER_INACTIVE_MESSAGE = (
    "Autotask answered Unauthorized. " + PROBLEM_MESSAGES[ConnectionProblem.USER_INACTIVE]
)
SECURITY_LEVEL_MESSAGE = (
    "Autotask refused the request: the API user's security level does not allow it. Give the "
    "API user the security level described in the setup guide (Contracts: 'Can modify "
    "Service/Bundle on contract changes'; Admin: Products, Services, & Inventory). "
    + UNAUTHORIZED_MESSAGE
)
CONTRACT_DATES_MESSAGE = (
    "Autotask: {error} Prism can only operate with active 'Recurring Service' Autotask "
    "contracts: an active contract has 'Active' set and the date between its start and end "
    "dates. Review the contract in Autotask (extend its dates) or map the customer to a "
    "contract that covers the invoice period."
)
CONTRACT_UNUSABLE_MESSAGE = (
    "Autotask: {error} Prism can only operate with active 'Recurring Service' Autotask "
    "contracts. Review the contract in Autotask, or map the customer to an active Recurring "
    "Service contract."
)
UNEXPECTED_MESSAGE = (
    "An unexpected error occurred ({detail}). Please contact the Prism operations team."
)
#: Rows per page of a query (Autotask's cap), hence contracts per `in` list of unit reads.
PAGE_ROWS = 500


def _service(raw: Service) -> PsaService:
    return PsaService(
        id=int(raw.id or 0),
        name=raw.name or "",
        unit_price=Decimal(str(raw.unit_price)) if raw.unit_price is not None else None,
        unit_cost=Decimal(str(raw.unit_cost)) if raw.unit_cost is not None else None,
        active=raw.is_active is not False,
        description=raw.description,
        invoice_description=raw.invoice_description,
    )


@contextmanager
def translated() -> Iterator[None]:
    """Autotask's errors as the port's; messages never include credentials."""
    try:
        yield
    except UserLockedError as exc:
        raise PsaUnauthorized(USER_LOCKED_MESSAGE, ConnectionProblem.USER_LOCKED) from exc
    except UserInactiveError as exc:
        raise PsaUnauthorized(USER_INACTIVE_MESSAGE, ConnectionProblem.USER_INACTIVE) from exc
    except AuthenticationError as exc:
        raise PsaUnauthorized(UNAUTHORIZED_MESSAGE, ConnectionProblem.WRONG_SECRET) from exc
    except ZoneNotFoundError as exc:
        raise PsaUnauthorized(UNAUTHORIZED_MESSAGE, ConnectionProblem.UNKNOWN_USER) from exc
    except InvalidIntegrationCodeError as exc:
        raise PsaUnauthorized(
            UNAUTHORIZED_MESSAGE, ConnectionProblem.INVALID_INTEGRATION_CODE
        ) from exc
    except PermissionDeniedError as exc:
        raise PsaUnauthorized(SECURITY_LEVEL_MESSAGE, ConnectionProblem.PERMISSION_DENIED) from exc
    except DuplicateKeyError as exc:
        raise PsaNameClash("; ".join(exc.errors) or str(exc)) from exc
    except ContractRuleError as exc:
        error = " ".join(exc.errors) or str(exc)
        if "effectivedate must be between" in error.lower():
            raise PsaContractRule(
                CONTRACT_DATES_MESSAGE.format(error=error), ErrorCode.DATE_OUTSIDE_CONTRACT
            ) from exc
        raise PsaContractRule(
            CONTRACT_UNUSABLE_MESSAGE.format(error=error), ErrorCode.CONTRACT_NOT_USABLE
        ) from exc
    except ValidationError as exc:
        raise PsaRuleError("; ".join(exc.errors) or str(exc)) from exc
    except (RateLimitError, TransportError, ServerError) as exc:
        raise PsaUnavailable(f"Autotask is unavailable ({type(exc).__name__}).") from exc
    except AutotaskError as exc:
        raise PsaError(UNEXPECTED_MESSAGE.format(detail=type(exc).__name__)) from exc


class AutotaskPsa:
    """`PsaPort` and `PsaDirectory` on one Autotask API user."""

    kind = PsaKind.AUTOTASK

    def __init__(self, client: AutotaskClient) -> None:
        self.client = client
        self._fields: dict[str, EntityFields] = {}

    def _meta(self, entity: str) -> EntityFields:
        if entity not in self._fields:
            if entity == "Services":
                self._fields[entity] = self.client.services.fields()
            elif entity == "BillingCodes":
                self._fields[entity] = self.client.billing_codes.fields()
            else:
                self._fields[entity] = self.client.companies.fields()
        return self._fields[entity]

    def _code(self, entity: str, field: str, label: str, default: int) -> int:
        try:
            return self._meta(entity).value_for(field, label)
        except KeyError:
            return default

    # -- PsaPort ---------------------------------------------------------------------------

    def limits(self) -> FieldLimits:
        return AUTOTASK_LIMITS

    def services_by_id(self, ids: Iterable[int]) -> dict[int, PsaService]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        with translated():
            return {
                s.id: s
                for s in (_service(r) for r in self.client.services.query(q.in_("id", wanted)))
            }

    def services_by_name(self, names: Iterable[str]) -> dict[str, PsaService]:
        wanted = sorted({n for n in names})
        if not wanted:
            return {}
        with translated():
            found = (_service(r) for r in self.client.services.query(q.in_("name", wanted)))
            return {s.name.strip().casefold(): s for s in found}

    def create_service(self, new: NewService) -> int:
        with translated():
            monthly = self._code("Services", "periodType", "Monthly", 1)
            record = Service(
                name=new.name,
                description=new.description,
                invoice_description=new.invoice_description,
                billing_code_id=new.billing_code_id,
                period_type=monthly,
                unit_price=new.unit_price,
                unit_cost=new.unit_cost,
                is_active=True,
            )
            if new.vendor_company_id is not None:
                record.vendor_company_id = new.vendor_company_id
            return self.client.services.create(record)

    def update_service_prices(self, id: int, unit_price: Decimal, unit_cost: Decimal) -> None:
        with translated():
            self.client.services.update(id, Service(unit_price=unit_price, unit_cost=unit_cost))

    # -- ContractPort (invoice sync) -------------------------------------------------------

    def contracts_by_id(self, ids: Iterable[int]) -> dict[int, PsaContract]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        with translated():
            found = self.client.contracts.query(
                q.query(
                    q.in_("id", wanted),
                    include=("id", "contractType", "status", "startDate", "endDate"),
                )
            )
            return {
                int(c.id or 0): PsaContract(
                    id=int(c.id or 0),
                    active=c.status == ACTIVE_CONTRACT_STATUS,
                    recurring=c.contract_type == RECURRING_SERVICE_CONTRACT,
                    start=c.start_date,
                    end=c.end_date,
                )
                for c in found
            }

    def contract_services(self, contract_ids: Iterable[int]) -> list[PsaContractService]:
        wanted = sorted({int(i) for i in contract_ids})
        if not wanted:
            return []
        with translated():
            found = self.client.contract_services.query(
                q.query(q.in_("contractID", wanted), include=("id", "contractID", "serviceID"))
            )
            return [
                PsaContractService(
                    int(cs.id or 0), int(cs.contract_id or 0), int(cs.service_id or 0)
                )
                for cs in found
            ]

    def unit_rows(self, contract_ids: Iterable[int], start: date, end: date) -> list[UnitRow]:
        wanted = sorted({int(i) for i in contract_ids})
        if not wanted:
            return []
        with translated():
            found = self.client.contract_service_units.query(
                q.query(
                    q.in_("contractID", wanted),
                    q.lte("startDate", end),
                    q.gte("endDate", start),
                    include=(
                        "id",
                        "contractID",
                        "contractServiceID",
                        "serviceID",
                        "startDate",
                        "endDate",
                        "units",
                        "price",
                        "cost",
                    ),
                )
            )
            return [
                UnitRow(
                    contract_service_id=int(u.contract_service_id or 0),
                    contract_id=int(u.contract_id or 0),
                    service_id=int(u.service_id or 0),
                    start=u.start_date,
                    end=u.end_date,
                    units=int(u.units or 0),
                    unit_price=u.price,
                    unit_cost=u.cost,
                )
                for u in found
                if u.start_date is not None and u.end_date is not None
            ]

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int:
        with translated():
            return self.client.contract_services.create(
                contract_id,
                ContractService(service_id=service_id, unit_price=unit_price, unit_cost=unit_cost),
            )

    def create_adjustment(self, new: NewAdjustment) -> int | None:
        with translated():
            record = ContractServiceAdjustment(
                contract_id=new.contract_id,
                service_id=new.service_id,
                # A calendar day: the client sends it at midday UTC, which is that day in
                # the instance's zone as well as in UTC (docs/psa-sync.md, "Time zones").
                effective_date=new.effective,
                unit_change=new.unit_change,
                adjusted_unit_price=new.unit_price,
                adjusted_unit_cost=new.unit_cost,
            )
            if new.contract_service_id is not None:
                # Left out otherwise: Autotask then adds the service to the contract (DOC).
                record.contract_service_id = new.contract_service_id
            return self.client.contract_service_adjustments.create(record)

    def close(self) -> None:
        self.client.close()

    # -- PsaDirectory ----------------------------------------------------------------------

    def check(self) -> str:
        try:
            zone = self.client.zone(refresh=True)
            self.client.test_connection()
        except ZoneNotFoundError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.UNKNOWN_USER) from exc
        except UserLockedError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.USER_LOCKED) from exc
        except UserInactiveError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.USER_INACTIVE) from exc
        except AuthenticationError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.WRONG_SECRET) from exc
        except InvalidIntegrationCodeError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.INVALID_INTEGRATION_CODE) from exc
        except PermissionDeniedError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.PERMISSION_DENIED) from exc
        except (TransportError, RateLimitError) as exc:
            raise ConnectionCheckFailed(ConnectionProblem.UNREACHABLE) from exc
        except AutotaskError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.UNEXPECTED) from exc
        return zone.url

    def recurring_billing_codes(self) -> list[Choice]:
        with translated():
            recurring = self._code("BillingCodes", "useType", RECURRING_CODE_LABEL, 5)
            codes = self.client.billing_codes.query(
                q.eq("useType", recurring), q.eq("isActive", True)
            )
            return sorted(
                (Choice(int(c.id or 0), c.name or "", c.description) for c in codes),
                key=lambda c: c.name.casefold(),
            )

    def _company_filters(self, search: str | None, vendors_only: bool) -> list[q.Filter]:
        filters: list[q.Filter] = [q.eq("isActive", True)]
        if search and search.strip():
            filters.append(q.contains("companyName", search.strip()))
        if vendors_only:
            filters.append(
                q.eq("companyType", self._code("Companies", "companyType", VENDOR_LABEL, 7))
            )
        return filters

    def companies(
        self,
        search: str | None,
        *,
        vendors_only: bool = False,
        first: int = PICKER_PAGE,
        after: int | None = None,
    ) -> ChoicePage:
        """One request: a page of Autotask's query paging, in its (id) order (N3)."""
        with translated():
            page = self.client.companies.page(
                q.query(
                    *self._company_filters(search, vendors_only),
                    include=("id", "companyName", "companyNumber"),
                ),
                size=first,
                after_id=after,
            )
            return ChoicePage(
                [
                    Choice(int(c.id or 0), c.company_name or "", c.company_number)
                    for c in page.items
                ],
                page.has_more,
            )

    def count_companies(self, search: str | None, *, vendors_only: bool = False) -> int:
        with translated():
            return self.client.companies.count(
                q.query(*self._company_filters(search, vendors_only))
            )

    @staticmethod
    def _contract_filters(
        company_id: int | None, search: str | None, today: date
    ) -> list[q.Filter]:
        """Active Recurring Service contracts in force `today` (the partner's) only (S4): the
        kind invoices can sync to."""
        filters: list[q.Filter] = [
            q.eq("contractType", RECURRING_SERVICE_CONTRACT),
            q.eq("status", ACTIVE_CONTRACT_STATUS),
            q.lte("startDate", today),
            q.gte("endDate", today),
        ]
        if company_id is not None:
            filters.append(q.eq("companyID", int(company_id)))
        if search and search.strip():
            filters.append(q.contains("contractName", search.strip()))
        return filters

    def recurring_contracts(
        self,
        company_id: int | None,
        search: str | None,
        *,
        today: date,
        first: int = PICKER_PAGE,
        after: int | None = None,
    ) -> ChoicePage:
        with translated():
            page = self.client.contracts.page(
                q.query(
                    *self._contract_filters(company_id, search, today),
                    include=("id", "contractName", "contractNumber"),
                ),
                size=first,
                after_id=after,
            )
            return ChoicePage(
                [
                    Choice(int(c.id or 0), c.contract_name or "", c.contract_number)
                    for c in page.items
                ],
                page.has_more,
            )

    def count_recurring_contracts(
        self, company_id: int | None, search: str | None, *, today: date
    ) -> int:
        with translated():
            return self.client.contracts.count(
                q.query(*self._contract_filters(company_id, search, today))
            )

    def company(self, id: int) -> Choice | None:
        with translated():
            raw = self.client.companies.get(id)
            if raw is None or raw.is_active is False:
                return None
            return Choice(int(raw.id or 0), raw.company_name or "", raw.company_number)

    def company_candidates(
        self, words: list[str], domain_stems: list[str], *, limit: int
    ) -> list[Choice]:
        with translated():
            probes: list[q.Filter] = [q.contains("companyName", w) for w in words]
            probes += [q.contains("webAddress", s) for s in domain_stems]
            found = islice(
                self.client.companies.query(q.eq("isActive", True), q.or_(*probes)), limit
            )
            return [
                Choice(
                    id=int(c.id or 0),
                    name=c.company_name or "",
                    detail=(c.model_extra or {}).get("webAddress"),
                )
                for c in found
            ]

    def contract(self, id: int, today: date) -> ContractFacts | None:
        with translated():
            raw = self.client.contracts.get(id)
        if raw is None:
            return None
        starts, ends = raw.start_date, raw.end_date
        return ContractFacts(
            id=int(raw.id or id),
            name=raw.contract_name or "",
            company_id=raw.company_id,
            recurring_service=raw.contract_type == RECURRING_SERVICE_CONTRACT,
            active=raw.status == ACTIVE_CONTRACT_STATUS
            and (starts is None or starts <= today)
            and (ends is None or today <= ends),
        )

    def service(self, id: int) -> PsaService | None:
        with translated():
            raw = self.client.services.get(id)
            return _service(raw) if raw is not None else None
