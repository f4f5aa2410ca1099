"""GraphQL types of the invoice sync's record: runs, customers' results, the reconciliation;
the customer mapping's are in `mapping_types`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry import relay

from prism_graph.billing.document import invoice_number
from prism_graph.billing.types import Invoice
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.customers.types import Customer
from prism_graph.sync.common import SyncItemOutcome, SyncRunStatus
from prism_psa.history import customer_results, item_outcome, run_status
from prism_psa.outcomes import ItemOutcome
from prism_tables.sync.invoices import InvoiceSyncJob as JobRow
from prism_tables.sync.invoices import InvoiceSyncReconciliation as ReconciliationRow
from prism_tables.sync.invoices import InvoiceSyncRun as RunRow
from prism_tables.sync.invoices import InvoiceSyncRunItem as ItemRow

if TYPE_CHECKING:
    from prism_graph.sync.preview_types import InvoiceSyncApprovalCustomer


def gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


# The run record's words: prism_psa.outcomes ----


class InvoiceSyncTriggerKind(StrEnum):
    INVOICE_ISSUED = "INVOICE_ISSUED"
    MANUAL = "MANUAL"
    SAVE_AND_SYNC = "SAVE_AND_SYNC"
    SAFETY_CHECK = "SAFETY_CHECK"
    REVERT = "REVERT"


InvoiceSyncTrigger = described_enum(
    InvoiceSyncTriggerKind,
    name="InvoiceSyncTrigger",
    description="What started an invoice sync run.",
    values={
        "INVOICE_ISSUED": "An invoice of the program was issued.",
        "MANUAL": "Someone asked for it (syncInvoices, or the command line).",
        "SAVE_AND_SYNC": 'A customer mapping was saved with "save and sync now".',
        "SAFETY_CHECK": "The periodic check found an issued invoice no run had synced, or a "
        "run left unfinished.",
        "REVERT": "Someone reverted an earlier run (revertInvoiceSyncRun): this run put the "
        "PSA's units back to what they were before it (see reverts).",
    },
)


def _trigger(value: str) -> InvoiceSyncTriggerKind:
    try:
        return InvoiceSyncTriggerKind(value)
    except ValueError:
        return InvoiceSyncTriggerKind.MANUAL


# The run record -----------------------------------------------------------------------------


@strawberry.type(
    description="One invoice line's outcome in a run (the Sync Status screen, per "
    "subscription); also a product with no line on the invoice whose PSA units were set, and "
    "the days the PSA still differs on."
)
class InvoiceSyncSubscriptionResult:
    subscription_id: strawberry.ID | None = strawberry.field(
        description="The subscription the line bills; null for an item that names no line."
    )
    sku: str | None = strawberry.field(description="The product's SKU.")
    product_name: str | None = strawberry.field(description="The product's name, if known.")
    period_start: date | None = strawberry.field(description="The first day the line bills.")
    period_end: date | None = strawberry.field(description="The last day the line bills.")
    effective_date: date | None = strawberry.field(
        description="The date the PSA's units change from (the PSA prorates)."
    )
    quantity: Decimal | None = strawberry.field(
        description="The quantity synced. For a usage line (metered, e.g. Azure), the units "
        "the PSA holds for the line's period, read back after the run: one unit at the "
        "month's usage amount, not the metered quantity; null when the PSA could not be read "
        "back. For other lines, the invoice line's quantity."
    )
    unit_cost: Decimal | None = strawberry.field(
        description="Cost price per unit, like `quantity`: for a usage line what the PSA "
        "holds (the month's usage cost), else the invoice line's."
    )
    unit_price: Decimal | None = strawberry.field(
        description="Retail price per unit, like `quantity`: for a usage line what the PSA "
        "holds (the month's usage amount), else the invoice line's."
    )
    unit_change: int | None = strawberry.field(
        description="Units added (or removed, negative) in the PSA by this run."
    )
    contract_id: int | None = strawberry.field(description="The PSA contract synced to.")
    contract_service_id: int | None = strawberry.field(
        description="The product's contract service on that contract, once it exists."
    )
    outcome: SyncItemOutcome = strawberry.field(  # type: ignore[valid-type]
        description="How the line's sync ended."
    )
    code: str | None = strawberry.field(description="Why, for skipped, warning and error items.")
    message: str | None = strawberry.field(description="What happened and the action to take.")

    @classmethod
    def from_row(cls, row: ItemRow) -> InvoiceSyncSubscriptionResult:
        return cls(
            subscription_id=gid("CustomerSubscription", row.subscription_id)
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
            outcome=item_outcome(row.outcome),
            code=row.code,
            message=row.message,
        )


@strawberry.type(description="One customer's outcome in a run, with its subscriptions.")
class InvoiceSyncCustomerResult:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    customer_name: str = strawberry.field(description="Its name when the run recorded it.")
    outcome: SyncItemOutcome = strawberry.field(  # type: ignore[valid-type]
        description="The customer's outcome: the worst of its subscriptions'."
    )
    code: str | None = strawberry.field(description="Why, for a skipped or failed customer.")
    message: str | None = strawberry.field(
        description="For a failed customer, its first error and what to do."
    )
    contract_id: int | None = strawberry.field(description="The target agreement (contract).")
    subscriptions: list[InvoiceSyncSubscriptionResult] = strawberry.field(
        description="Its invoice lines' outcomes (and its other items)."
    )
    subscriptions_synced: int = strawberry.field(description="Items synced successfully.")
    subscriptions_failed: int = strawberry.field(description="Items in error.")
    pk: strawberry.Private[int]

    @strawberry.field(description="The customer; null if it no longer exists.")
    async def customer(self, info: Info) -> Customer | None:
        row = await info.context.loaders.customer_by_id.load(self.pk)
        return Customer.from_model(row) if row else None

    @classmethod
    def group(cls, rows: Iterable[ItemRow]) -> list[InvoiceSyncCustomerResult]:
        return [
            cls(
                customer_id=gid("Customer", r.customer_id),
                customer_name=r.customer_name,
                outcome=r.outcome,
                code=r.code,
                message=r.message,
                contract_id=r.contract_id,
                subscriptions=[InvoiceSyncSubscriptionResult.from_row(s) for s in r.services],
                subscriptions_synced=r.count(ItemOutcome.SUCCESS),
                subscriptions_failed=r.count(ItemOutcome.ERROR),
                pk=r.customer_id,
            )
            for r in customer_results(rows)
        ]


@strawberry.type(
    description="After a run: a customer's units of one product as the invoices say against "
    "the PSA's contract service units, from `asOf` until the next row (read back from the PSA "
    "after the run's writes)."
)
class InvoiceSyncReconciliationRow:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    sku: str = strawberry.field(description="The product's SKU.")
    contract_id: int = strawberry.field(
        description="The contract in the PSA (Autotask contract, ConnectWise agreement)."
    )
    contract_service_id: int | None = strawberry.field(
        description="The product's contract service; null when there is none in the PSA."
    )
    as_of: date = strawberry.field(description="The first day this row covers.")
    invoice_units: int = strawberry.field(
        description="The units the invoices say (for a REVERT run: the units before the "
        "reverted run)."
    )
    psa_units: int | None = strawberry.field(
        description="The units the PSA holds; null when it could not be read."
    )
    matches: bool = strawberry.field(description="The PSA holds what the invoices say.")

    @classmethod
    def from_row(cls, row: ReconciliationRow) -> InvoiceSyncReconciliationRow:
        return cls(
            customer_id=gid("Customer", row.customer_id),
            sku=row.sku,
            contract_id=row.contract_id,
            contract_service_id=row.contract_service_id,
            as_of=row.as_of,
            invoice_units=row.invoice_units,
            psa_units=row.psa_units,
            matches=row.matches,
        )


@strawberry.type(description="One invoice sync run: when, why, how it went, and its counts.")
class InvoiceSyncRun(relay.Node):
    id: relay.NodeID[int]
    program_id: strawberry.ID = strawberry.field(description="The program synced.")
    trigger: InvoiceSyncTrigger = strawberry.field(  # type: ignore[valid-type]
        description="What started it."
    )
    status: SyncRunStatus = strawberry.field(  # type: ignore[valid-type]
        description="How it stands, or how it ended."
    )
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null while under way."
    )
    customers_considered: int = strawberry.field(description="Customers on the invoice.")
    customers_synced: int = strawberry.field(description="Customers synced without error.")
    customers_failed: int = strawberry.field(description="Customers with an error.")
    subscriptions_synced: int = strawberry.field(description="Invoice lines synced.")
    adjustments_applied: int = strawberry.field(
        description="Unit changes (ContractServiceAdjustments) written to the PSA."
    )
    warnings: int = strawberry.field(description="Items with a warning.")
    message: str | None = strawberry.field(
        description="Why the run as a whole failed, and what to do; else null."
    )
    requires_approval: bool = strawberry.field(
        description="Whether the run waits for a partner admin's approval before writing (the "
        "program required it when the run started); its planned changes are in approval."
    )
    invoice_pk: strawberry.Private[int | None]
    customer_pk: strawberry.Private[int | None]
    reverts_pk: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: RunRow) -> InvoiceSyncRun:
        return cls(
            id=row.id,
            program_id=gid("Program", row.program_id),
            trigger=_trigger(row.trigger),
            status=run_status(row.status),
            started_at=row.started_at,
            finished_at=row.finished_at,
            customers_considered=row.customers_considered,
            customers_synced=row.customers_synced,
            customers_failed=row.customers_failed,
            subscriptions_synced=row.subscriptions_synced,
            adjustments_applied=row.adjustments_applied,
            warnings=row.warnings,
            message=row.message,
            requires_approval=row.approval is not None,
            invoice_pk=row.invoice_id,
            customer_pk=row.customer_id,
            reverts_pk=row.reverts_run_id,
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

    @strawberry.field(description="For a REVERT run, the run whose changes it put back; else null.")
    async def reverts(self, info: Info) -> InvoiceSyncRun | None:
        if self.reverts_pk is None:
            return None
        row = await info.context.loaders.invoice_sync_run_by_id.load(self.reverts_pk)
        return InvoiceSyncRun.from_row(row) if row else None

    @strawberry.field(
        description="The run that reverted this one (revertInvoiceSyncRun), once it is "
        "recorded; null if it was never reverted."
    )
    async def reverted_by(self, info: Info) -> InvoiceSyncRun | None:
        row = await info.context.loaders.invoice_sync_run_reverting.load(self.id)
        return InvoiceSyncRun.from_row(row) if row else None

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
        description="Per customer, with each subscription's outcome (the Sync Status screen)."
    )
    async def customers(self, info: Info) -> list[InvoiceSyncCustomerResult]:
        rows = await info.context.loaders.items_by_invoice_sync_run.load(self.id)
        return InvoiceSyncCustomerResult.group(rows)

    @strawberry.field(
        description="For a run that requires approval: per customer, the changes it plans "
        "(every adjustment, with its amount) and whether they wait, were approved or were "
        "dismissed; empty for other runs."
    )
    async def approval(
        self, info: Info
    ) -> list[
        Annotated[InvoiceSyncApprovalCustomer, strawberry.lazy("prism_graph.sync.preview_types")]
    ]:
        from prism_graph.sync.preview_types import approval_of

        if not self.requires_approval:
            return []
        jobs = list(
            await info.context.reader.scalars(
                select(JobRow).where(JobRow.run_id == self.id, JobRow.proposal.is_not(None))
            )
        )
        names = {
            c.id: c.name
            for c in await info.context.loaders.customer_by_id.load_many(
                sorted({j.customer_id for j in jobs})
            )
            if c is not None
        }
        return approval_of(jobs, names)

    @strawberry.field(description="Invoice units against the PSA's units after the run.")
    async def reconciliation(self, info: Info) -> list[InvoiceSyncReconciliationRow]:
        rows = await info.context.loaders.reconciliation_by_invoice_sync_run.load(self.id)
        return [InvoiceSyncReconciliationRow.from_row(r) for r in rows]


@strawberry.type(description="A page of invoice sync runs, newest first (the Sync History).")
class InvoiceSyncRunConnection(Counted, relay.Connection[InvoiceSyncRun]):
    pass


@strawberry.type(description="The customers card: the last successful sync and the last run.")
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


@strawberry.input(description="Which invoice of a program to sync to your PSA now.")
class SyncInvoicesInput:
    program_id: relay.GlobalID = strawberry.field(
        description="A program whose sync settings are saved and on."
    )
    invoice_id: relay.GlobalID | None = strawberry.field(
        default=None, description="One of your invoices of the program; default: the latest."
    )


@strawberry.type(description="Whether an invoice sync was requested, and for which invoice.")
class SyncInvoicesPayload:
    requested: bool = strawberry.field(
        description="The sync will run shortly; its run shows in invoiceSyncRuns."
    )
    invoice: Invoice | None = strawberry.field(description="The invoice that will be synced.")
    errors: list[UserError] = strawberry.field(description="Why it was not requested.")


@strawberry.input(description="The invoice sync run to revert.")
class RevertInvoiceSyncRunInput:
    run_id: relay.GlobalID = strawberry.field(
        description="One of your finished invoice sync runs (an InvoiceSyncRun) that changed "
        "units in the PSA."
    )


@strawberry.type(description="Whether a revert was requested, and of which run.")
class RevertInvoiceSyncRunPayload:
    requested: bool = strawberry.field(
        description="The revert will run shortly: a run of its own (trigger REVERT) that "
        "shows in invoiceSyncRuns and in the reverted run's revertedBy."
    )
    run: InvoiceSyncRun | None = strawberry.field(description="The run that will be reverted.")
    errors: list[UserError] = strawberry.field(
        description="Why it was not requested: e.g. a later run changed the same contract "
        "services (revert it first), or the run was already reverted."
    )
