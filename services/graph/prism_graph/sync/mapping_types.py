"""GraphQL types of the customer mapping: a program's customers, their links to PSA
companies and contracts, suggestions, and the inputs and payloads of the mapping screen."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

from prism_domain.mapping import Suggestion
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError
from prism_graph.context import Info
from prism_graph.customers.types import Customer, SortDirection
from prism_graph.sync.common import SyncItemOutcome
from prism_graph.sync.invoice_types import InvoiceSyncRun, gid
from prism_graph.sync.types import PsaChoice
from prism_psa.history import item_outcome
from prism_tables.sync.connections import CustomerMapping as MappingRow
from prism_tables.sync.invoices import InvoiceSyncRun as RunRow
from prism_tables.sync.invoices import InvoiceSyncRunItem as ItemRow

# The customer mapping -----------------------------------------------------------------------


@strawberry.type(
    description="A customer's link, in one program, to a PSA company and a contract of it."
)
class CustomerMapping:
    program_id: strawberry.ID = strawberry.field(description="The program.")
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    psa: str = strawberry.field(description='Which PSA: "AUTOTASK" or "CONNECTWISE".')
    company: PsaChoice = strawberry.field(description="The PSA company it is.")
    contract: PsaChoice = strawberry.field(
        description="The contract the customer's invoices go to: an active Recurring "
        "Service contract (Autotask) or an agreement in force (ConnectWise)."
    )
    sync_enabled: bool = strawberry.field(
        description="The customer's own sync switch; off, its invoices are not synced."
    )
    updated_at: datetime = strawberry.field(description="When the mapping last changed.")

    @classmethod
    def from_row(cls, row: MappingRow) -> CustomerMapping:
        return cls(
            program_id=gid("Program", row.program_id),
            customer_id=gid("Customer", row.customer_id),
            psa=row.psa,
            company=PsaChoice(id=row.company_id, name=row.company_name, detail=None),
            contract=PsaChoice(id=row.contract_id, name=row.contract_name, detail=None),
            sync_enabled=row.sync_enabled,
            updated_at=row.updated_at,
        )


@strawberry.type(description="How a customer's part of the newest finished invoice sync went.")
class CustomerInvoiceSync:
    outcome: SyncItemOutcome = strawberry.field(  # type: ignore[valid-type]
        description="The customer's outcome in that run."
    )
    code: str | None = strawberry.field(description="Why, for a skipped or failed customer.")
    message: str | None = strawberry.field(
        description="For a failed customer, its first error and what to do."
    )
    run: InvoiceSyncRun = strawberry.field(description="The run.")

    @classmethod
    def of(cls, item: ItemRow, run: RunRow) -> CustomerInvoiceSync:
        return cls(
            outcome=item_outcome(item.outcome),
            code=item.code,
            message=item.message,
            run=InvoiceSyncRun.from_row(run),
        )


@strawberry.type(description="One row of a program's Customers screen (customer mapping).")
class SyncCustomer:
    program_pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]

    @strawberry.field(description="The customer.")
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


@strawberry.type(description="One customer of the page, with its cursor.")
class SyncCustomerEdge:
    node: SyncCustomer = strawberry.field(description="The customer's row.")
    cursor: str = strawberry.field(
        description="Pass as `after` (or `before`) to continue after (or before) this row."
    )


@strawberry.type(description="A page of a program's customers for mapping.")
class SyncCustomerConnection(Counted):
    edges: list[SyncCustomerEdge] = strawberry.field(description="This page's rows.")
    page_info: relay.PageInfo = strawberry.field(
        description="Whether more rows follow or precede, and the cursors to get them."
    )


class SyncCustomerSortKind(Enum):
    NAME = "NAME"
    TENANT = "TENANT"
    COMPANY = "COMPANY"
    CONTRACT = "CONTRACT"
    SYNC = "SYNC"


SyncCustomerSortField = described_enum(
    SyncCustomerSortKind,
    name="SyncCustomerSortField",
    description="What the Customers screen is sorted by (then by customer, to keep pages stable).",
    values={
        "NAME": "The customer's name.",
        "TENANT": "The customer's first tenant domain in the program.",
        "COMPANY": "The mapped PSA company's name (unmapped customers first).",
        "CONTRACT": "The mapped contract's name (unmapped customers first).",
        "SYNC": "The sync switch (off and unmapped first).",
    },
)


@strawberry.input(description="How to sort the Customers screen.")
class SyncCustomerOrder:
    field: SyncCustomerSortField = strawberry.field(  # type: ignore[valid-type]
        default=SyncCustomerSortKind.NAME, description="The column; the name by default."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (the default) or descending."
    )


@strawberry.type(
    description="A PSA company that may be the customer, with why; never applied by itself."
)
class CustomerMappingSuggestion:
    company: PsaChoice = strawberry.field(
        description="The company; `detail` holds its web domain, if any."
    )
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


@strawberry.input(
    description='Link a customer with the PSA: "SAVE", or "SAVE AND SYNC NOW" with syncNow.'
)
class SaveCustomerMappingInput:
    program_id: relay.GlobalID = strawberry.field(description="The program.")
    customer_id: relay.GlobalID = strawberry.field(
        description="One of your customers with a tenant in the program (or mapped in it)."
    )
    company_id: int = strawberry.field(description="From psaCompanies or the suggestions.")
    contract_id: int = strawberry.field(
        description="An active Recurring Service contract of that company (psaContracts)."
    )
    sync_enabled: bool = strawberry.field(description="The customer's own sync switch.")
    sync_now: bool = strawberry.field(
        default=False,
        description="Sync the customer's latest invoice right after saving; needs syncEnabled.",
    )


@strawberry.type(description="A customer's mapping after saving it or switching its sync.")
class CustomerMappingPayload:
    mapping: CustomerMapping | None = strawberry.field(
        description="The mapping as saved; null when nothing was saved."
    )
    sync_requested: bool = strawberry.field(description="An invoice sync was requested.")
    errors: list[UserError] = strawberry.field(description="Why nothing was saved.")


@strawberry.input(description="Turn a mapped customer's sync on or off; the mapping stays.")
class SetCustomerSyncInput:
    program_id: relay.GlobalID = strawberry.field(description="The program.")
    customer_id: relay.GlobalID = strawberry.field(description="A customer mapped in it.")
    sync_enabled: bool = strawberry.field(description="On or off.")


@strawberry.input(description="Which customer to unmap in which program.")
class RemoveCustomerMappingInput:
    program_id: relay.GlobalID = strawberry.field(description="The program.")
    customer_id: relay.GlobalID = strawberry.field(description="A customer mapped in it.")


@strawberry.type(description="Whether the mapping was removed.")
class RemoveCustomerMappingPayload:
    removed: bool = strawberry.field(description="The customer is no longer mapped.")
    errors: list[UserError] = strawberry.field(description="Why nothing was removed.")
