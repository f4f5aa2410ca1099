"""The ConnectWise PSA adapter behind `PsaPort`, `ContractPort` and `PsaDirectory` (issue 17).

What Prism calls a service is a catalog item, a contract is an agreement, and a contract
service is a product's additions on an agreement; docs/connectwise.md, "The adapter", gives
the mapping and the decisions. Every call goes through `connectwise_client`; its errors
become the port's `PsaError` tree with messages naming ConnectWise's screens (S6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice, pairwise

from connectwise_client import (
    Addition,
    Agreement,
    AuthenticationError,
    CatalogItem,
    CompanyNotFoundError,
    ConnectWiseClient,
    ConnectWiseError,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Reference,
    ServerError,
    TransportError,
    ValidationError,
)
from connectwise_client import conditions as c
from prism_domain.sync import ConnectionProblem, PsaKind
from prism_psa.connectwise_timeline import AdditionLine, Segment, line_of, merged, money
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

CW = PsaKind.CONNECTWISE

#: A catalog item's `description` (60 in the published 2020+ model) and its
#: `customerDescription` (6,000): constant, so a sync spends no call to learn them.
CONNECTWISE_LIMITS = FieldLimits(description=60, invoice_description=6000)
#: Ids per `in (...)` list, and the most characters of names in one: the Developer Guide
#: asks to keep a URL under about 2,000 characters.
IDS_PER_QUERY = 100
NAME_CHARS_PER_QUERY = 1200
#: How Prism's additions bill: the customer pays for them.
BILLABLE = "Billable"
ADDITION_FIELDS = [
    "id",
    "product",
    "quantity",
    "unitPrice",
    "unitCost",
    "effectiveDate",
    "cancelledDate",
    "agreementId",
]

UNAUTHORIZED_MESSAGE = (
    "ConnectWise refused the API member's keys. Check the company id, public key and "
    "private key on the Connections screen, and that the API member still exists in "
    "ConnectWise (System > Members > API Members) with those keys."
)
CLIENT_ID_MESSAGE = (
    "ConnectWise refused Prism's integration (clientId). Contact the Prism operations team."
)
UNKNOWN_COMPANY_MESSAGE = (
    "ConnectWise does not know this company id: check the company id (the one typed on "
    "ConnectWise's login screen) and the site on the Connections screen."
)
SECURITY_MESSAGE = (
    "ConnectWise refused the request: the API member's security role does not allow it. "
    "Give the API member's role the rights described in the setup guide (System > Security "
    "Roles: Finance > Agreements with Add-Level and Edit-Level; Procurement > Product "
    "Catalog with Add-Level and Edit-Level)."
)
CONTRACT_DATES_MESSAGE = (
    "ConnectWise: {error} Prism can only add products to an agreement on days it is in "
    "force. Review the agreement's start and end dates in ConnectWise (Finance > "
    "Agreements), or map the customer to an agreement that covers the invoice period."
)
CONTRACT_UNUSABLE_MESSAGE = (
    "ConnectWise: {error} Prism can only operate with active, prorating ConnectWise "
    "agreements. Review the agreement in ConnectWise (Finance > Agreements), or map the "
    "customer to an active agreement."
)
BILLED_MESSAGE = (
    "ConnectWise: {error} The agreement has already been invoiced for that period, and "
    "ConnectWise keeps invoiced additions as they were. Reverse the agreement's invoice in "
    "ConnectWise (Finance > Invoices) if that period must change, then sync again."
)
BELOW_ZERO_MESSAGE = (
    "The agreement's additions for this product in ConnectWise hold fewer units from {day} "
    "than the change removes. Review the product's additions on the agreement in "
    "ConnectWise (Finance > Agreements, Additions tab), then sync again."
)
UNEXPECTED_MESSAGE = (
    "An unexpected error occurred ({detail}). Please contact the Prism operations team."
)


def _service(raw: CatalogItem) -> PsaService:
    return PsaService(
        id=int(raw.id or 0),
        name=raw.identifier or "",
        unit_price=money(raw.price),
        unit_cost=money(raw.cost),
        active=raw.inactive_flag is not True,
        description=raw.description,
        invoice_description=raw.customer_description,
    )


def _field_error(exc: ConnectWiseError, field: str) -> bool:
    return any(f.lower().startswith(field.lower()) for f in exc.fields())


@contextmanager
def translated() -> Iterator[None]:
    """ConnectWise's errors as the port's; messages never include credentials."""
    try:
        yield
    except CompanyNotFoundError as exc:
        raise PsaUnauthorized(UNKNOWN_COMPANY_MESSAGE, ConnectionProblem.UNKNOWN_USER, CW) from exc
    except AuthenticationError as exc:
        if "clientid" in exc.message.lower():
            raise PsaUnauthorized(
                CLIENT_ID_MESSAGE, ConnectionProblem.INVALID_INTEGRATION_CODE, CW
            ) from exc
        raise PsaUnauthorized(UNAUTHORIZED_MESSAGE, ConnectionProblem.WRONG_SECRET, CW) from exc
    except PermissionDeniedError as exc:
        raise PsaUnauthorized(SECURITY_MESSAGE, ConnectionProblem.PERMISSION_DENIED, CW) from exc
    except DuplicateError as exc:
        raise PsaNameClash(exc.message) from exc
    except ValidationError as exc:
        raise PsaRuleError(f"ConnectWise: {exc.message}") from exc
    except (RateLimitError, TransportError, ServerError) as exc:
        raise PsaUnavailable(f"ConnectWise is unavailable ({type(exc).__name__}).") from exc
    except ConnectWiseError as exc:
        raise PsaError(UNEXPECTED_MESSAGE.format(detail=type(exc).__name__)) from exc


@contextmanager
def agreement_rules() -> Iterator[None]:
    """An addition refused by its agreement: its dates, its status, or billed history."""
    try:
        yield
    except NotFoundError as exc:
        raise PsaContractRule(
            CONTRACT_UNUSABLE_MESSAGE.format(error=exc.message), ErrorCode.CONTRACT_NOT_USABLE
        ) from exc
    except ValidationError as exc:
        text = exc.message.lower()
        if "billed" in text or "invoiced" in text:
            raise PsaRuleError(BILLED_MESSAGE.format(error=exc.message)) from exc
        if _field_error(exc, "effectiveDate"):
            raise PsaContractRule(
                CONTRACT_DATES_MESSAGE.format(error=exc.message), ErrorCode.DATE_OUTSIDE_CONTRACT
            ) from exc
        if _field_error(exc, "product"):
            raise PsaRuleError(
                f"ConnectWise: {exc.message} Check that the product is active in ConnectWise "
                "(Procurement > Product Catalog)."
            ) from exc
        raise


def _chunks(values: Sequence[int], size: int = IDS_PER_QUERY) -> Iterator[list[int]]:
    for i in range(0, len(values), size):
        yield list(values[i : i + size])


def _name_chunks(names: Sequence[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    length = 0
    for name in names:
        if chunk and length + len(name) > NAME_CHARS_PER_QUERY:
            yield chunk
            chunk, length = [], 0
        chunk.append(name)
        length += len(name) + 4
    if chunk:
        yield chunk


class ConnectWisePsa:
    """`PsaPort`, `ContractPort` and `PsaDirectory` on one ConnectWise API member."""

    kind = CW

    def __init__(self, client: ConnectWiseClient) -> None:
        self.client = client
        self._product_type: int | None = None
        #: Additions `contract_services` just read, per agreement, for the `unit_rows` call
        #: that follows it in a sync's read (`read_histories`): used once, dropped on a write.
        self._just_read: dict[int, list[AdditionLine]] = {}

    # -- PsaPort ---------------------------------------------------------------------------

    def limits(self) -> FieldLimits:
        return CONNECTWISE_LIMITS

    def services_by_id(self, ids: Iterable[int]) -> dict[int, PsaService]:
        wanted = sorted({int(i) for i in ids})
        out: dict[int, PsaService] = {}
        with translated():
            for chunk in _chunks(wanted):
                for raw in self.client.catalog.list(c.in_("id", chunk)):
                    service = _service(raw)
                    out[service.id] = service
        return out

    def services_by_name(self, names: Iterable[str]) -> dict[str, PsaService]:
        """A service's name is its catalog item's identifier (unique case-insensitively)."""
        wanted = sorted({n for n in names if n})
        out: dict[str, PsaService] = {}
        with translated():
            for chunk in _name_chunks(wanted):
                for raw in self.client.catalog.list(c.in_("identifier", chunk)):
                    service = _service(raw)
                    out[service.name.strip().casefold()] = service
        return out

    def _first_product_type(self) -> int:
        """The active product type with the lowest id: ConnectWise asks for a type on every
        catalog item, and Prism's sync has none of its own to give."""
        if self._product_type is None:
            found = next(
                iter(self.client.product_types.list(c.eq("inactiveFlag", False), fields=["id"])),
                None,
            )
            if found is None or found.id is None:
                raise PsaRuleError(
                    "ConnectWise has no active product type, which every catalog item needs: "
                    "add one in ConnectWise (System > Setup Tables > Product Type)."
                )
            self._product_type = int(found.id)
        return self._product_type

    def create_service(self, new: NewService) -> int:
        """A catalog item: the name as its identifier, in the subcategory chosen as the
        billing code, of the first active product type, with the program's vendor company
        (if one is set) as its vendor."""
        with translated():
            made = self.client.catalog.create(
                CatalogItem(
                    identifier=new.name,
                    description=new.description,
                    customer_description=new.invoice_description,
                    subcategory=Reference.to(new.billing_code_id),
                    type=Reference.to(self._first_product_type()),
                    price=new.unit_price,
                    cost=new.unit_cost,
                    recurring_flag=True,
                    inactive_flag=False,
                    vendor=(
                        Reference.to(new.vendor_company_id)
                        if new.vendor_company_id is not None
                        else None
                    ),
                )
            )
            return int(made.id or 0)

    def update_service_prices(self, id: int, unit_price: Decimal, unit_cost: Decimal) -> None:
        with translated():
            self.client.catalog.patch(id, CatalogItem(price=unit_price, cost=unit_cost))

    # -- ContractPort (invoice sync) -------------------------------------------------------

    def contracts_by_id(self, ids: Iterable[int]) -> dict[int, PsaContract]:
        wanted = sorted({int(i) for i in ids})
        out: dict[int, PsaContract] = {}
        with translated():
            for chunk in _chunks(wanted):
                for raw in self.client.agreements.list(c.in_("id", chunk)):
                    contract = _contract(raw)
                    out[contract.id] = contract
        return out

    def _lines(self, agreement_id: int, product_id: int | None = None) -> list[AdditionLine]:
        """The agreement's additions (of one product), every page; none if it is gone."""
        where = c.eq("product/id", product_id) if product_id is not None else None
        try:
            found = self.client.agreements.additions(agreement_id).list(
                where, fields=ADDITION_FIELDS
            )
            return [ln for ln in (line_of(a) for a in found) if ln is not None]
        except NotFoundError:
            return []

    def _by_product(
        self, contract_ids: Iterable[int], *, reuse: bool = False
    ) -> dict[tuple[int, int], list[AdditionLine]]:
        """Additions per (agreement, product): one paged read per agreement, since
        ConnectWise lists additions under their agreement only. With `reuse`, the agreements
        the call just before read (`contract_services`, nothing written since) are not read
        again; either way, what is kept is only ever the latest read's."""
        kept, self._just_read = (self._just_read if reuse else {}), {}
        out: dict[tuple[int, int], list[AdditionLine]] = defaultdict(list)
        for agreement in sorted({int(i) for i in contract_ids}):
            lines = kept.get(agreement)
            if lines is None:
                lines = self._lines(agreement)
            if not reuse:
                self._just_read[agreement] = lines
            for ln in lines:
                out[(agreement, ln.product_id)].append(ln)
        return out

    def contract_services(self, contract_ids: Iterable[int]) -> list[PsaContractService]:
        """One per product on each agreement; its id is the product's first addition's."""
        with translated():
            grouped = self._by_product(contract_ids)
        return [
            PsaContractService(min(ln.id for ln in lines), agreement, product)
            for (agreement, product), lines in sorted(grouped.items())
        ]

    def unit_rows(self, contract_ids: Iterable[int], start: date, end: date) -> list[UnitRow]:
        """The merged timeline of each product on each agreement, overlapping [start, end];
        a segment that runs on (no cancelled date) is reported up to `end`."""
        with translated():
            grouped = self._by_product(contract_ids, reuse=True)
        rows: list[UnitRow] = []
        for (agreement, product), lines in sorted(grouped.items()):
            cs_id = min(ln.id for ln in lines)
            for seg in merged(lines):
                last = seg.end if seg.end is not None else max(end, seg.start)
                if seg.start <= end and last >= start:
                    rows.append(
                        UnitRow(
                            contract_service_id=cs_id,
                            contract_id=agreement,
                            service_id=product,
                            start=seg.start,
                            end=last,
                            units=seg.units,
                            unit_price=seg.unit_price,
                            unit_cost=seg.unit_cost,
                        )
                    )
        return rows

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int:
        """The product's first addition if it has one; else a 0-quantity addition from the
        agreement's start (it bills nothing), whose id then names the contract service."""
        with translated():
            lines = self._lines(contract_id, service_id)
            if lines:
                return min(ln.id for ln in lines)
            with agreement_rules():
                agreement = self.client.agreements.get(contract_id)
                if agreement.start_date is None:
                    raise PsaContractRule(
                        CONTRACT_UNUSABLE_MESSAGE.format(error="The agreement has no start date."),
                        ErrorCode.CONTRACT_NOT_USABLE,
                    )
                return self._add(
                    contract_id, service_id, 0, agreement.start_date, None, unit_price, unit_cost
                )

    def _add(
        self,
        agreement_id: int,
        product_id: int,
        quantity: int,
        start: date,
        stop: date | None,
        unit_price: Decimal,
        unit_cost: Decimal,
    ) -> int:
        record = Addition(
            product=Reference.to(product_id),
            quantity=Decimal(quantity),
            unit_price=unit_price,
            unit_cost=unit_cost,
            bill_customer=BILLABLE,
            effective_date=start,
        )
        if stop is not None:
            record.cancelled_date = stop
        self._just_read.pop(agreement_id, None)
        made = self.client.agreements.additions(agreement_id).create(record)
        return int(made.id or 0)

    def create_adjustment(self, new: NewAdjustment) -> int | None:
        """An increase is a new addition from the effective day. A decrease is made by
        cancel-and-add: ConnectWise keeps an invoiced addition as it was, so additions are
        cancelled from the effective day and what remains of them is added back from that
        day, at their own prices; nothing before the effective day changes. Answers the
        first new addition's id (None: nothing was added back).

        A decrease takes several writes; on `PsaUnavailable` part of them may be done, and
        the merged timeline read back shows how far (the sync re-reads before writing).
        """
        with translated(), agreement_rules():
            if new.unit_change > 0:
                return self._add(
                    new.contract_id,
                    new.service_id,
                    new.unit_change,
                    new.effective,
                    None,
                    new.unit_price,
                    new.unit_cost,
                )
            if new.unit_change == 0:
                return None
            return self._decrease(new, -new.unit_change)

    def _decrease(self, new: NewAdjustment, units: int) -> int | None:
        day = new.effective
        lines = self._lines(new.contract_id, new.service_id)
        # Additions that run on from the day: taking units off them takes them off every
        # later day too. Latest first: the ones least likely to be invoiced already.
        running = sorted(
            (ln for ln in lines if ln.stop is None and ln.start <= day and ln.quantity > 0),
            key=lambda ln: (ln.start, ln.id),
            reverse=True,
        )
        if sum(ln.quantity for ln in running) >= units:
            return self._take_off(new, running, units)
        return self._rebuild(new, lines, units)

    def _take_off(self, new: NewAdjustment, running: list[AdditionLine], units: int) -> int | None:
        """Cancel running additions from the day and add back what is left of them."""
        self._just_read.pop(new.contract_id, None)
        additions = self.client.agreements.additions(new.contract_id)
        first: int | None = None
        for ln in running:
            if units == 0:
                break
            taken = min(units, ln.quantity)
            units -= taken
            additions.patch(ln.id, Addition(cancelled_date=new.effective))
            if ln.quantity > taken:
                made = self._add(
                    new.contract_id,
                    new.service_id,
                    ln.quantity - taken,
                    new.effective,
                    None,
                    ln.unit_price if ln.unit_price is not None else new.unit_price,
                    ln.unit_cost if ln.unit_cost is not None else new.unit_cost,
                )
                first = made if first is None else first
        return first

    def _rebuild(self, new: NewAdjustment, lines: list[AdditionLine], units: int) -> int | None:
        """Additions a person ended or started later: cancel every one in effect from the
        day, and add back the merged timeline less `units`, segment by segment."""
        day = new.effective
        touched = [ln for ln in lines if ln.stop is None or ln.stop > max(day, ln.start)]
        remaining = [
            Segment(s.start, s.end, s.units - units, s.unit_price, s.unit_cost)
            for s in merged(touched, since=day)
        ]
        covered = (
            bool(remaining)
            and remaining[0].start == day
            and remaining[-1].end is None
            and all(
                a.end is not None and a.end + timedelta(days=1) == b.start
                for a, b in pairwise(remaining)
            )
        )
        if not covered or any(s.units < 0 for s in remaining):
            raise PsaRuleError(BELOW_ZERO_MESSAGE.format(day=day.isoformat()))
        self._just_read.pop(new.contract_id, None)
        additions = self.client.agreements.additions(new.contract_id)
        for ln in touched:
            # From the day on; an addition starting later is cancelled before it starts.
            additions.patch(ln.id, Addition(cancelled_date=max(day, ln.start)))
        first: int | None = None
        for seg in remaining:
            if seg.units == 0:
                continue
            made = self._add(
                new.contract_id,
                new.service_id,
                seg.units,
                seg.start,
                seg.end + timedelta(days=1) if seg.end is not None else None,
                seg.unit_price if seg.unit_price is not None else new.unit_price,
                seg.unit_cost if seg.unit_cost is not None else new.unit_cost,
            )
            first = made if first is None else first
        return first

    def close(self) -> None:
        self.client.close()

    # -- PsaDirectory ----------------------------------------------------------------------

    def check(self) -> str:
        """The company's codebase (companyinfo), then the keys and clientId (system/info)."""
        try:
            self.client.company_info()
            self.client.test_connection()
        except CompanyNotFoundError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.UNKNOWN_USER) from exc
        except AuthenticationError as exc:
            if "clientid" in exc.message.lower():
                raise ConnectionCheckFailed(ConnectionProblem.INVALID_INTEGRATION_CODE) from exc
            raise ConnectionCheckFailed(ConnectionProblem.WRONG_SECRET) from exc
        except PermissionDeniedError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.PERMISSION_DENIED) from exc
        except (TransportError, RateLimitError, ServerError) as exc:
            raise ConnectionCheckFailed(ConnectionProblem.UNREACHABLE) from exc
        except ConnectWiseError as exc:
            raise ConnectionCheckFailed(ConnectionProblem.UNEXPECTED) from exc
        return self.client.base_url()

    def recurring_billing_codes(self) -> list[Choice]:
        """Active product subcategories: the billing code a new catalog item goes under."""
        with translated():
            found = self.client.product_subcategories.list(c.eq("inactiveFlag", False))
            return sorted(
                (
                    Choice(int(s.id or 0), s.name or "", s.category.name if s.category else None)
                    for s in found
                ),
                key=lambda ch: ch.name.casefold(),
            )

    @staticmethod
    def _company_filter(search: str | None) -> c.Condition:
        """Companies not deleted. `vendors_only` cannot narrow them: a company's types are a
        list the conditions language does not reach (docs/connectwise.md, "The adapter")."""
        where = c.eq("deletedFlag", False)
        if search and search.strip():
            where = where & c.contains("name", search.strip())
        return where

    def _page(
        self, path: str, where: c.Condition, first: int, after: int | None, *, fields: list[str]
    ) -> tuple[list[dict[str, object]], bool]:
        """`first` records after id `after` and whether more match: one request of
        forward-only paging (one record more than asked, to know)."""
        size = max(1, min(first, 999))
        found = list(
            islice(
                self.client.iterate(
                    path, conditions=where, fields=fields, page_size=size + 1, after_id=after
                ),
                size + 1,
            )
        )
        return found[:size], len(found) > size

    def companies(
        self,
        search: str | None,
        *,
        vendors_only: bool = False,
        first: int = PICKER_PAGE,
        after: int | None = None,
    ) -> ChoicePage:
        with translated():
            items, more = self._page(
                "company/companies",
                self._company_filter(search),
                first,
                after,
                fields=["id", "name", "identifier"],
            )
        return ChoicePage(
            [
                Choice(int(str(i["id"])), str(i.get("name") or ""), _text(i, "identifier"))
                for i in items
            ],
            more,
        )

    def count_companies(self, search: str | None, *, vendors_only: bool = False) -> int:
        with translated():
            return self.client.companies.count(self._company_filter(search))

    @staticmethod
    def _agreement_filter(company_id: int | None, search: str | None, today: date) -> c.Condition:
        """Agreements invoices can sync to (S4): not cancelled, prorating, with a billing
        cycle, and in force on `today` (the partner's)."""
        where = (
            c.eq("cancelledFlag", False)
            & c.eq("prorateFlag", True)
            & c.ne("billingCycle/id", None)
            & c.le("startDate", today)
            & (c.ge("endDate", today) | c.eq("endDate", None) | c.eq("noEndingDateFlag", True))
        )
        if company_id is not None:
            where = where & c.eq("company/id", int(company_id))
        if search and search.strip():
            where = where & c.contains("name", search.strip())
        return where

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
            items, more = self._page(
                "finance/agreements",
                self._agreement_filter(company_id, search, today),
                first,
                after,
                fields=["id", "name", "company"],
            )
        choices = []
        for i in items:
            company = i.get("company")
            detail = company.get("name") if isinstance(company, dict) else None
            choices.append(
                Choice(int(str(i["id"])), str(i.get("name") or ""), str(detail) if detail else None)
            )
        return ChoicePage(choices, more)

    def count_recurring_contracts(
        self, company_id: int | None, search: str | None, *, today: date
    ) -> int:
        with translated():
            return self.client.agreements.count(self._agreement_filter(company_id, search, today))

    def company(self, id: int) -> Choice | None:
        with translated():
            try:
                raw = self.client.companies.get(id)
            except NotFoundError:
                return None
            if raw.deleted_flag:
                return None
            return Choice(int(raw.id or 0), raw.name or "", raw.identifier)

    def company_candidates(
        self, words: list[str], domain_stems: list[str], *, limit: int
    ) -> list[Choice]:
        """One query: companies not deleted whose name or website contains a word or stem."""
        probes = [c.contains("name", w) for w in words]
        probes += [c.contains("website", s) for s in domain_stems]
        if not probes:
            return []
        anyof = probes[0]
        for probe in probes[1:]:
            anyof = anyof | probe
        with translated():
            found = islice(
                self.client.iterate(
                    "company/companies",
                    conditions=c.eq("deletedFlag", False) & anyof,
                    fields=["id", "name", "website"],
                    page_size=min(limit, 1000),
                ),
                limit,
            )
            return [
                Choice(int(str(i["id"])), str(i.get("name") or ""), _text(i, "website"))
                for i in found
            ]

    def contract(self, id: int, today: date) -> ContractFacts | None:
        """The agreement as customer mapping checks it: whose, whether it bills prorated
        additions on a cycle, and whether it is in force on `today`."""
        with translated():
            try:
                raw = self.client.agreements.get(id)
            except NotFoundError:
                return None
        facts = _contract(raw)
        return ContractFacts(
            id=facts.id,
            name=raw.name or "",
            company_id=raw.company.id if raw.company is not None else None,
            recurring_service=facts.recurring,
            active=facts.active
            and (facts.start is None or facts.start <= today)
            and (facts.end is None or today <= facts.end),
        )

    def service(self, id: int) -> PsaService | None:
        with translated():
            try:
                return _service(self.client.catalog.get(id))
            except NotFoundError:
                return None


def _text(item: dict[str, object], key: str) -> str | None:
    value = item.get(key)
    return str(value) if value is not None else None


def _contract(raw: Agreement) -> PsaContract:
    """Active: not cancelled. Recurring: it bills on a cycle and prorates additions, which
    the invoice sync relies on. It ends on its end date (none without one) or, once
    cancelled on a date, the day before it."""
    cancelled = bool(raw.cancelled_flag) or (raw.agreement_status or "").lower() == "cancelled"
    end = None if raw.no_ending_date_flag else raw.end_date
    if raw.date_cancelled is not None:
        stop = raw.date_cancelled - timedelta(days=1)
        end = stop if end is None else min(end, stop)
    return PsaContract(
        id=int(raw.id or 0),
        active=not cancelled,
        recurring=bool(raw.prorate_flag) and raw.billing_cycle is not None,
        start=raw.start_date,
        end=end,
    )
