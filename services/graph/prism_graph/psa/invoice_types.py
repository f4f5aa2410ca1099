"""GraphQL types of the customer mapping (S4) and of the invoice sync's record (S5-S7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

import strawberry
from sqlalchemy import Select
from strawberry import relay

from prism_domain.mapping import Suggestion
from prism_graph.billing.document import invoice_number
from prism_graph.billing.types import Invoice
from prism_graph.common.errors import UserError
from prism_graph.common.nodes import load_nodes
from prism_graph.common.pagination import count_all
from prism_graph.context import Info
from prism_graph.customers.types import Customer, SortDirection
from prism_graph.psa.types import PsaChoice
from prism_syncer.invoices.models import InvoiceSyncReconciliation as ReconciliationRow
from prism_syncer.invoices.models import InvoiceSyncRun as RunRow
from prism_syncer.invoices.models import InvoiceSyncRunItem as ItemRow
from prism_syncer.psa.models import CustomerMapping as MappingRow


def _gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


# Enums of the run record (the values are the syncer's, see prism_syncer.invoices.models) ----


class InvoiceSyncStatusKind(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    NO_CHANGE = "NO_CHANGE"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILURE = "FAILURE"


class InvoiceSyncTriggerKind(StrEnum):
    INVOICE_ISSUED = "INVOICE_ISSUED"
    MANUAL = "MANUAL"
    SAVE_AND_SYNC = "SAVE_AND_SYNC"
    SAFETY_CHECK = "SAFETY_CHECK"


class InvoiceSyncOutcomeKind(StrEnum):
    SYNCED = "SYNCED"
    UNCHANGED = "UNCHANGED"
    SKIPPED = "SKIPPED"
    WARNING = "WARNING"
    ERROR = "ERROR"


InvoiceSyncStatus = strawberry.enum(
    InvoiceSyncStatusKind,
    name="InvoiceSyncStatus",
    description="PENDING/RUNNING while under way, then NO_CHANGE, SUCCESS, WARNING or FAILURE.",
)
InvoiceSyncTrigger = strawberry.enum(InvoiceSyncTriggerKind, name="InvoiceSyncTrigger")
InvoiceSyncOutcome = strawberry.enum(InvoiceSyncOutcomeKind, name="InvoiceSyncOutcome")

FINISHED = (
    InvoiceSyncStatusKind.NO_CHANGE,
    InvoiceSyncStatusKind.SUCCESS,
    InvoiceSyncStatusKind.WARNING,
    InvoiceSyncStatusKind.FAILURE,
)
SUCCESSFUL = (
    InvoiceSyncStatusKind.NO_CHANGE,
    InvoiceSyncStatusKind.SUCCESS,
    InvoiceSyncStatusKind.WARNING,
)
# The worst first: a customer's outcome when the run recorded only its subscriptions.
_SEVERITY = [
    InvoiceSyncOutcomeKind.ERROR,
    InvoiceSyncOutcomeKind.WARNING,
    InvoiceSyncOutcomeKind.SYNCED,
    InvoiceSyncOutcomeKind.UNCHANGED,
    InvoiceSyncOutcomeKind.SKIPPED,
]


def _status(value: str) -> InvoiceSyncStatusKind:
    try:
        return InvoiceSyncStatusKind(value)
    except ValueError:  # a status a newer syncer wrote: show it as still under way
        return InvoiceSyncStatusKind.RUNNING


def _trigger(value: str) -> InvoiceSyncTriggerKind:
    try:
        return InvoiceSyncTriggerKind(value)
    except ValueError:
        return InvoiceSyncTriggerKind.MANUAL


def _outcome(value: str) -> InvoiceSyncOutcomeKind:
    try:
        return InvoiceSyncOutcomeKind(value)
    except ValueError:
        return InvoiceSyncOutcomeKind.ERROR


# The run record (S7) ------------------------------------------------------------------------


@strawberry.type(
    description="One invoice line's outcome in a run (S7 Sync Status, per subscription)."
)
class InvoiceSyncSubscriptionResult:
    subscription_id: strawberry.ID | None
    sku: str | None
    product_name: str | None
    period_start: date | None
    period_end: date | None
    effective_date: date | None = strawberry.field(
        description="The date the PSA's units change from (Autotask prorates)."
    )
    quantity: Decimal | None
    unit_cost: Decimal | None = strawberry.field(description="Cost price.")
    unit_price: Decimal | None = strawberry.field(description="Retail price.")
    unit_change: int | None = strawberry.field(
        description="Units added (or removed, negative) in the PSA by this run."
    )
    contract_id: int | None
    contract_service_id: int | None
    outcome: InvoiceSyncOutcome  # type: ignore[valid-type]
    code: str | None = strawberry.field(description="Why, for skipped, warning and error items.")
    message: str | None = strawberry.field(description="What happened and the action to take.")

    @classmethod
    def from_row(cls, row: ItemRow) -> InvoiceSyncSubscriptionResult:
        return cls(
            subscription_id=_gid("Subscription", row.subscription_id)
            if row.subscription_id is not None
            else None,
            sku=row.sku,
            product_name=row.product_name,
            period_start=row.period_start,
            period_end=row.period_end,
            effective_date=row.effective_date,
            quantity=_decimal(row.quantity),
            unit_cost=_decimal(row.unit_cost),
            unit_price=_decimal(row.unit_price),
            unit_change=row.unit_change,
            contract_id=row.contract_id,
            contract_service_id=row.contract_service_id,
            outcome=_outcome(row.outcome),
            code=row.code,
            message=row.message,
        )


@strawberry.type(description="One customer's outcome in a run, with its subscriptions (S7).")
class InvoiceSyncCustomerResult:
    customer_id: strawberry.ID
    customer_name: str
    outcome: InvoiceSyncOutcome  # type: ignore[valid-type]
    code: str | None
    message: str | None
    contract_id: int | None = strawberry.field(description="The target agreement (contract).")
    subscriptions: list[InvoiceSyncSubscriptionResult]
    subscriptions_synced: int
    subscriptions_failed: int
    pk: strawberry.Private[int]

    @strawberry.field(description="The customer; null if it no longer exists.")
    async def customer(self, info: Info) -> Customer | None:
        row = await info.context.loaders.customer_by_id.load(self.pk)
        return Customer.from_model(row) if row else None

    @classmethod
    def group(cls, rows: Iterable[ItemRow]) -> list[InvoiceSyncCustomerResult]:
        by_customer: dict[int, tuple[ItemRow | None, list[ItemRow]]] = {}
        for row in rows:
            own, lines = by_customer.setdefault(row.customer_id, (None, []))
            if row.subscription_id is None and row.sku is None:
                by_customer[row.customer_id] = (row, lines)
            else:
                lines.append(row)
        results = []
        for customer_id, (own, lines) in by_customer.items():
            subscriptions = [InvoiceSyncSubscriptionResult.from_row(r) for r in lines]
            outcomes = [s.outcome for s in subscriptions]
            if own is not None:
                outcome = _outcome(own.outcome)
            else:
                outcome = next(
                    (o for o in _SEVERITY if o in outcomes), InvoiceSyncOutcomeKind.UNCHANGED
                )
            first = own or lines[0]
            results.append(
                cls(
                    customer_id=_gid("Customer", customer_id),
                    customer_name=first.customer_name,
                    outcome=outcome,
                    code=own.code if own else None,
                    message=own.message if own else None,
                    contract_id=first.contract_id,
                    subscriptions=subscriptions,
                    subscriptions_synced=outcomes.count(InvoiceSyncOutcomeKind.SYNCED),
                    subscriptions_failed=outcomes.count(InvoiceSyncOutcomeKind.ERROR),
                    pk=customer_id,
                )
            )
        return results


@strawberry.type(
    description="After a run: a customer's units of one product on the invoice against the "
    "PSA's contract service units on `asOf` (S10's check)."
)
class InvoiceSyncReconciliationRow:
    customer_id: strawberry.ID
    sku: str
    contract_id: int
    contract_service_id: int | None
    as_of: date
    invoice_units: int
    psa_units: int | None = strawberry.field(description="Null: no contract service in the PSA.")
    matches: bool

    @classmethod
    def from_row(cls, row: ReconciliationRow) -> InvoiceSyncReconciliationRow:
        return cls(
            customer_id=_gid("Customer", row.customer_id),
            sku=row.sku,
            contract_id=row.contract_id,
            contract_service_id=row.contract_service_id,
            as_of=row.as_of,
            invoice_units=row.invoice_units,
            psa_units=row.psa_units,
            matches=row.matches,
        )


@strawberry.type(description="One invoice sync run (S7): when, why, how it went, counts.")
class InvoiceSyncRun(relay.Node):
    id: relay.NodeID[int]
    program_id: strawberry.ID
    trigger: InvoiceSyncTrigger  # type: ignore[valid-type]
    status: InvoiceSyncStatus  # type: ignore[valid-type]
    started_at: datetime
    finished_at: datetime | None
    customers_considered: int
    customers_synced: int
    customers_failed: int
    subscriptions_synced: int
    adjustments_applied: int = strawberry.field(
        description="ContractServiceAdjustments written to the PSA."
    )
    warnings: int
    message: str | None
    invoice_pk: strawberry.Private[int | None]
    customer_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: RunRow) -> InvoiceSyncRun:
        return cls(
            id=row.id,
            program_id=_gid("Program", row.program_id),
            trigger=_trigger(row.trigger),
            status=_status(row.status),
            started_at=row.started_at,
            finished_at=row.finished_at,
            customers_considered=row.customers_considered,
            customers_synced=row.customers_synced,
            customers_failed=row.customers_failed,
            subscriptions_synced=row.subscriptions_synced,
            adjustments_applied=row.adjustments_applied,
            warnings=row.warnings,
            message=row.message,
            invoice_pk=row.invoice_id,
            customer_pk=row.customer_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[InvoiceSyncRun | None]:
        return await load_nodes(info.context.loaders.invoice_sync_run_by_id, node_ids, cls.from_row)

    @strawberry.field(description="The invoice synced; null for a run that found none.")
    async def invoice(self, info: Info) -> Invoice | None:
        if self.invoice_pk is None:
            return None
        row = await info.context.loaders.invoice_by_id.load(self.invoice_pk)
        return Invoice.from_model(row) if row else None

    @strawberry.field(description='The one customer of a "save and sync now" run, else null.')
    async def customer(self, info: Info) -> Customer | None:
        if self.customer_pk is None:
            return None
        row = await info.context.loaders.customer_by_id.load(self.customer_pk)
        return Customer.from_model(row) if row else None

    @strawberry.field(
        description='The card\'s line, e.g. "1 of 1 customers synced for invoice INV-202610-000042".'
    )
    async def summary(self, info: Info) -> str:
        text = f"{self.customers_synced} of {self.customers_considered} customers synced"
        if self.invoice_pk is None:
            return text
        row = await info.context.loaders.invoice_by_id.load(self.invoice_pk)
        return f"{text} for invoice {invoice_number(row.period_start, row.id)}" if row else text

    @strawberry.field(
        description="Per customer, with each subscription's outcome (S7 Sync Status)."
    )
    async def customers(self, info: Info) -> list[InvoiceSyncCustomerResult]:
        rows = await info.context.loaders.items_by_invoice_sync_run.load(self.id)
        return InvoiceSyncCustomerResult.group(rows)

    @strawberry.field(description="Invoice units against the PSA's units after the run.")
    async def reconciliation(self, info: Info) -> list[InvoiceSyncReconciliationRow]:
        rows = await info.context.loaders.reconciliation_by_invoice_sync_run.load(self.id)
        return [InvoiceSyncReconciliationRow.from_row(r) for r in rows]


@strawberry.type(description="A page of invoice sync runs, newest first (S7 Sync History).")
class InvoiceSyncRunConnection(relay.Connection[InvoiceSyncRun]):
    pass


@strawberry.type(description="The customers card (S7): last successful sync and the last run.")
class InvoiceSyncOverview:
    last_successful_at: datetime | None = strawberry.field(
        description="When the last run that left the PSA right (success, warning, no change) began."
    )
    last_run: InvoiceSyncRun | None = strawberry.field(
        description="The newest finished run, whatever its status."
    )
    in_progress: bool = strawberry.field(description="A run is pending or under way.")
    errors: int = strawberry.field(description="Customers the last run failed for.")
    warnings: int = strawberry.field(description="Warnings of the last run.")


# The customer mapping (S4) ------------------------------------------------------------------


@strawberry.type(description="A customer's link to a PSA company and contract (S4).")
class CustomerMapping:
    program_id: strawberry.ID
    customer_id: strawberry.ID
    psa: str
    company: PsaChoice
    contract: PsaChoice = strawberry.field(description="An active Recurring Service contract.")
    sync_enabled: bool = strawberry.field(description="The customer's own sync switch (S9).")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: MappingRow) -> CustomerMapping:
        return cls(
            program_id=_gid("Program", row.program_id),
            customer_id=_gid("Customer", row.customer_id),
            psa=row.psa,
            company=PsaChoice(id=row.company_id, name=row.company_name, detail=None),
            contract=PsaChoice(id=row.contract_id, name=row.contract_name, detail=None),
            sync_enabled=row.sync_enabled,
            updated_at=row.updated_at,
        )


@strawberry.type(description="How a customer's part of the newest finished invoice sync went.")
class CustomerInvoiceSync:
    outcome: InvoiceSyncOutcome  # type: ignore[valid-type]
    code: str | None
    message: str | None
    run: InvoiceSyncRun

    @classmethod
    def of(cls, item: ItemRow, run: RunRow) -> CustomerInvoiceSync:
        return cls(
            outcome=_outcome(item.outcome),
            code=item.code,
            message=item.message,
            run=InvoiceSyncRun.from_row(run),
        )


@strawberry.type(description="One row of a program's Customers screen (S4).")
class SyncCustomer:
    program_pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        row = await info.context.loaders.customer_by_id.load(self.customer_pk)
        assert row is not None  # listed through the same scope
        return Customer.from_model(row)

    @strawberry.field(description="The customer's tenant domains in the program, sorted.")
    async def tenant_domains(self, info: Info) -> list[str]:
        rows = await info.context.loaders.tenants_by_customer.load(self.customer_pk)
        return sorted(r.domain for r in rows if r.program_id == self.program_pk)

    @strawberry.field(description="The first of tenantDomains (the screen's Tenant column).")
    async def tenant_domain(self, info: Info) -> str | None:
        domains = await self.tenant_domains(info)
        return domains[0] if domains else None

    @strawberry.field(description="The PSA company and contract; null until mapped.")
    async def mapping(self, info: Info) -> CustomerMapping | None:
        rows = await info.context.loaders.customer_mappings_by_customer.load(self.customer_pk)
        row = next((r for r in rows if r.program_id == self.program_pk), None)
        return CustomerMapping.from_row(row) if row else None

    @strawberry.field(description="The customer's outcome in the newest finished invoice sync.")
    async def last_invoice_sync(self, info: Info) -> CustomerInvoiceSync | None:
        found = await info.context.loaders.last_invoice_sync_by_customer.load(
            (self.program_pk, self.customer_pk)
        )
        return CustomerInvoiceSync.of(*found) if found else None


@strawberry.type
class SyncCustomerEdge:
    node: SyncCustomer
    cursor: str


@strawberry.type(description="A page of a program's customers for mapping (S4).")
class SyncCustomerConnection:
    edges: list[SyncCustomerEdge]
    page_info: relay.PageInfo
    filtered: strawberry.Private[Select[Any]]

    @strawberry.field(description="How many customers match the search, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await count_all(info.context.reader.scalar, self.filtered)


@strawberry.enum
class SyncCustomerSortField(Enum):
    NAME = "NAME"
    TENANT = "TENANT"
    COMPANY = "COMPANY"
    CONTRACT = "CONTRACT"
    SYNC = "SYNC"


@strawberry.input
class SyncCustomerOrder:
    field: SyncCustomerSortField = SyncCustomerSortField.NAME
    direction: SortDirection = SortDirection.ASC


@strawberry.type(
    description="A PSA company that may be the customer (S4), never applied by itself."
)
class CustomerMappingSuggestion:
    company: PsaChoice
    score: int = strawberry.field(description="0 to 100: the higher, the likelier.")
    reasons: list[str] = strawberry.field(
        description='Why, e.g. "web domain contoso.com matches", "same name".'
    )

    @classmethod
    def of(cls, suggestion: Suggestion) -> CustomerMappingSuggestion:
        c = suggestion.candidate
        return cls(
            company=PsaChoice(id=c.id, name=c.name, detail=c.web_domain),
            score=suggestion.score,
            reasons=list(suggestion.reasons),
        )


@strawberry.input(description='Link with Autotask (S4): "SAVE", or "SAVE AND SYNC NOW".')
class SaveCustomerMappingInput:
    program_id: relay.GlobalID
    customer_id: relay.GlobalID
    company_id: int = strawberry.field(description="From psaCompanies or the suggestions.")
    contract_id: int = strawberry.field(
        description="An active Recurring Service contract of that company (psaContracts)."
    )
    sync_enabled: bool
    sync_now: bool = strawberry.field(
        default=False,
        description="Sync the customer's latest invoice right after saving; needs syncEnabled.",
    )


@strawberry.type
class CustomerMappingPayload:
    mapping: CustomerMapping | None
    sync_requested: bool = strawberry.field(description="An invoice sync was requested.")
    errors: list[UserError]


@strawberry.input(description="Turn a mapped customer's sync on or off (S9).")
class SetCustomerSyncInput:
    program_id: relay.GlobalID
    customer_id: relay.GlobalID
    sync_enabled: bool


@strawberry.input
class RemoveCustomerMappingInput:
    program_id: relay.GlobalID
    customer_id: relay.GlobalID


@strawberry.type
class RemoveCustomerMappingPayload:
    removed: bool
    errors: list[UserError]


@strawberry.input(description="A manual invoice sync (S5).")
class SyncInvoicesInput:
    program_id: relay.GlobalID
    invoice_id: relay.GlobalID | None = strawberry.field(
        default=None, description="One of your invoices of the program; default: the latest."
    )


@strawberry.type
class SyncInvoicesPayload:
    requested: bool
    invoice: Invoice | None = strawberry.field(description="The invoice that will be synced.")
    errors: list[UserError]
