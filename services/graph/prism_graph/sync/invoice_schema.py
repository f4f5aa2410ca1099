"""Customer mapping (S4, S9) and invoice sync (S5, S7) queries and mutations. Like the rest
of the PSA screens, everything is the caller's partner's (T3): its staff and API clients, or
the distributor acting for it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, Subquery, and_, case, exists, func, or_, select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.sync import ApprovalDecision
from prism_graph.access import (
    requires,
    visible_customer_mappings,
    visible_customers,
    visible_invoice_sync_runs,
)
from prism_graph.billing.types import Invoice
from prism_graph.catalogue.schema import like_pattern
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.context import Info
from prism_graph.customers.types import SortDirection
from prism_graph.sync import approval, mapping, preview, revert, service, suggestions
from prism_graph.sync.common import PsaUnavailable, partner_of
from prism_graph.sync.config import psa_config
from prism_graph.sync.invoice_types import (
    InvoiceSyncOverview,
    InvoiceSyncRun,
    InvoiceSyncRunConnection,
    RevertInvoiceSyncRunInput,
    RevertInvoiceSyncRunPayload,
    SyncInvoicesInput,
    SyncInvoicesPayload,
)
from prism_graph.sync.mapping_types import (
    CustomerMapping,
    CustomerMappingPayload,
    CustomerMappingSuggestion,
    RemoveCustomerMappingInput,
    RemoveCustomerMappingPayload,
    SaveCustomerMappingInput,
    SetCustomerSyncInput,
    SyncCustomer,
    SyncCustomerConnection,
    SyncCustomerEdge,
    SyncCustomerOrder,
    SyncCustomerSortField,
)
from prism_graph.sync.preview_types import (
    InvoiceSyncDecisionInput,
    InvoiceSyncDecisionPayload,
    InvoiceSyncPreview,
    InvoiceSyncPreviewPayload,
)
from prism_psa.history import FINISHED, SUCCESSFUL
from prism_tables.billing import Invoice as InvoiceRow
from prism_tables.customers import Customer
from prism_tables.sync.connections import CustomerMapping as MappingRow
from prism_tables.sync.invoices import InvoiceSyncRun as RunRow
from prism_tables.tenants import Tenant

MAX_SUGGESTIONS = 20
PROGRAM = strawberry.argument(description="A program of the catalogue.")
_SORT_COLUMNS = {
    SyncCustomerSortField.NAME: "name_key",
    SyncCustomerSortField.TENANT: "tenant_domain",
    SyncCustomerSortField.COMPANY: "company_key",
    SyncCustomerSortField.CONTRACT: "contract_key",
    SyncCustomerSortField.SYNC: "sync",
}


_partner = partner_of


def _sync_customers(info: Info, partner: int, program: int, search: str | None) -> Subquery:
    """One flat row per listed customer with its sort columns (never NULL, so that keyset
    paging compares them): the partner's customers with a tenant in the program, and those
    mapped in it (a mapping never disappears from the screen)."""
    scope = info.context.scope
    in_program = and_(Tenant.customer_id == Customer.id, Tenant.program_id == program)
    first_tenant = (
        select(func.min(Tenant.domain)).where(in_program).correlate(Customer).scalar_subquery()
    )
    stmt = (
        select(
            Customer.id.label("id"),
            Customer.name_key.label("name_key"),
            func.coalesce(first_tenant, "").label("tenant_domain"),
            func.coalesce(func.lower(MappingRow.company_name), "").label("company_key"),
            func.coalesce(func.lower(MappingRow.contract_name), "").label("contract_key"),
            case((MappingRow.sync_enabled.is_(True), 1), else_=0).label("sync"),
        )
        .select_from(Customer)
        .outerjoin(
            MappingRow,
            and_(
                MappingRow.customer_id == Customer.id,
                MappingRow.program_id == program,
                visible_customer_mappings(scope),
            ),
        )
        .where(
            visible_customers(scope),
            Customer.owner_id == partner,
            or_(exists().where(in_program), MappingRow.id.is_not(None)),
        )
    )
    text = (search or "").strip().casefold()
    if text:
        pattern = like_pattern(text)
        stmt = stmt.where(
            or_(
                Customer.name_key.like(pattern, escape="\\"),
                exists().where(in_program, func.lower(Tenant.domain).like(pattern, escape="\\")),
            )
        )
    return stmt.subquery("sync_customers")


def _runs(info: Info, program_id: relay.GlobalID) -> Select[Any]:
    return select(RunRow).where(
        visible_invoice_sync_runs(info.context.scope),
        RunRow.program_id == node_pk(program_id, "Program"),
    )


@strawberry.type
class InvoiceSyncQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="The program's customers for mapping (the Customers screen): tenant, "
        "mapping, sync switch and last invoice sync; searched by name or tenant domain.",
    )
    async def sync_customers(
        self,
        info: Info,
        program_id: Annotated[relay.GlobalID, PROGRAM],
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only customers whose name or a tenant domain in the program "
                "contains this text (any letter case)."
            ),
        ] = None,
        order_by: Annotated[
            SyncCustomerOrder | None,
            strawberry.argument(description="The sort; by name, ascending, by default."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> SyncCustomerConnection:
        partner = _partner(info)
        program = node_pk(program_id, "Program")
        table = _sync_customers(info, partner if partner is not None else -1, program, search)
        order = order_by or SyncCustomerOrder()
        columns: Any = (table.c[_SORT_COLUMNS[order.field]], table.c.id)
        stmt = select(table)
        page: Page[Any] = await paginate(
            info.context.reader.rows,
            stmt,
            SortKey(columns, descending=order.direction == SortDirection.DESC),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(
            SyncCustomerConnection,
            page,
            lambda row: SyncCustomer(program_pk=program, customer_pk=row.id),
            edge_type=SyncCustomerEdge,
            filtered=stmt,
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="The PSA companies most likely to be the customer, live, best "
        "first, each with its score and why; empty for an unknown customer. Only shown: "
        "nothing is mapped until saveCustomerMapping.",
    )
    async def customer_mapping_suggestions(
        self,
        info: Info,
        program_id: Annotated[relay.GlobalID, PROGRAM],
        customer_id: Annotated[
            relay.GlobalID, strawberry.argument(description="One of your customers.")
        ],
        limit: Annotated[
            int,
            strawberry.argument(
                description=f"At most this many suggestions (1 to {MAX_SUGGESTIONS})."
            ),
        ] = 5,
    ) -> list[CustomerMappingSuggestion]:
        partner = _partner(info)
        if partner is None:
            return []
        found = await suggestions.suggestions(
            info.context.database,
            psa_config(info),
            partner,
            node_pk(program_id, "Program"),
            node_pk(customer_id, "Customer"),
            max(1, min(limit, MAX_SUGGESTIONS)),
        )
        if found is None:
            return []
        if not isinstance(found, list):
            raise PsaUnavailable(found.message)
        return [CustomerMappingSuggestion.of(s) for s in found]

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="Invoice sync history of a program, newest first (the Sync History).",
    )
    async def invoice_sync_runs(
        self,
        info: Info,
        program_id: Annotated[relay.GlobalID, PROGRAM],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> InvoiceSyncRunConnection:
        runs = _runs(info, program_id)
        page: Page[RunRow] = await paginate(
            info.context.reader.scalars,
            runs,
            SortKey((RunRow.id,), descending=True),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(InvoiceSyncRunConnection, page, InvoiceSyncRun.from_row, filtered=runs)

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="One invoice sync run with its customers, subscriptions and "
        "reconciliation (the Sync Status screen); null if none is yours.",
    )
    async def invoice_sync_run(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID, strawberry.argument(description="The run's id (an InvoiceSyncRun).")
        ],
    ) -> InvoiceSyncRun | None:
        pk = node_pk(id, "InvoiceSyncRun")
        row = await info.context.loaders.invoice_sync_run_by_id.load(pk) if pk > 0 else None
        return InvoiceSyncRun.from_row(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="What a sync of an invoice would write to the PSA now, to the cent: per "
        "customer and product, every contract service adjustment and what it adds to the "
        "customer's billing in the PSA. Reads the PSA; writes nothing.",
    )
    async def invoice_sync_preview(
        self,
        info: Info,
        program_id: Annotated[relay.GlobalID, PROGRAM],
        invoice_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="The invoice; the program's latest by default."),
        ] = None,
        customer_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Only this customer; every synced one by default."),
        ] = None,
    ) -> InvoiceSyncPreviewPayload:
        partner = _partner(info)
        if partner is None:
            return InvoiceSyncPreviewPayload(
                preview=None, errors=user_errors([service.NO_PARTNER], prefix=None)
            )
        result = await preview.invoice_preview(
            info.context.database,
            psa_config(info),
            partner,
            node_pk(program_id, "Program"),
            invoice_id=max(node_pk(invoice_id, "Invoice"), 0) if invoice_id else None,
            customer_id=max(node_pk(customer_id, "Customer"), 0) if customer_id else None,
        )
        if isinstance(result, list):
            return InvoiceSyncPreviewPayload(preview=None, errors=user_errors(result, prefix=None))
        row = await info.context.reader.scalar(
            select(InvoiceRow).where(InvoiceRow.id == result.invoice.id)
        )
        assert row is not None
        return InvoiceSyncPreviewPayload(
            preview=InvoiceSyncPreview.of(result, Invoice.from_model(row)), errors=[]
        )

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="The customers card: the last successful sync and the last run's counts.",
    )
    async def invoice_sync_overview(
        self, info: Info, program_id: Annotated[relay.GlobalID, PROGRAM]
    ) -> InvoiceSyncOverview:
        runs = _runs(info, program_id).order_by(RunRow.started_at.desc(), RunRow.id.desc())
        last = await info.context.reader.scalar(runs.where(RunRow.status.in_(FINISHED)).limit(1))
        good = await info.context.reader.scalar(runs.where(RunRow.status.in_(SUCCESSFUL)).limit(1))
        busy = await info.context.reader.scalar(runs.where(RunRow.status.not_in(FINISHED)).limit(1))
        return InvoiceSyncOverview(
            last_successful_at=good.started_at if good else None,
            last_run=InvoiceSyncRun.from_row(last) if last else None,
            in_progress=busy is not None,
            errors=last.customers_failed if last else 0,
            warnings=last.warnings if last else 0,
        )


@strawberry.type
class InvoiceSyncMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Link a customer with a PSA company and an active Recurring Service "
        "contract of it, both checked live; with syncNow, its latest invoice is synced right "
        'after ("SAVE AND SYNC NOW"). Nothing is saved when anything is refused.',
    )
    async def save_customer_mapping(
        self,
        info: Info,
        input: Annotated[
            SaveCustomerMappingInput,
            strawberry.argument(description="The customer, its company and contract."),
        ],
    ) -> CustomerMappingPayload:
        partner = _partner(info)
        if partner is None:
            return CustomerMappingPayload(
                mapping=None, sync_requested=False, errors=user_errors([service.NO_PARTNER])
            )
        result = await mapping.save_mapping(
            info.context.database,
            psa_config(info),
            partner,
            program_id=node_pk(input.program_id, "Program"),
            customer_id=node_pk(input.customer_id, "Customer"),
            company_id=input.company_id,
            contract_id=input.contract_id,
            sync_enabled=input.sync_enabled,
            sync_now=input.sync_now,
        )
        if isinstance(result, list):
            return CustomerMappingPayload(
                mapping=None, sync_requested=False, errors=user_errors(result)
            )
        return CustomerMappingPayload(
            mapping=CustomerMapping.from_row(result.mapping),
            sync_requested=result.sync_requested,
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Turn a mapped customer's sync on or off, keeping its mapping; turning it "
        "on again is safe.",
    )
    async def set_customer_sync(
        self,
        info: Info,
        input: Annotated[
            SetCustomerSyncInput, strawberry.argument(description="The customer and its switch.")
        ],
    ) -> CustomerMappingPayload:
        partner = _partner(info)
        if partner is None:
            return CustomerMappingPayload(
                mapping=None, sync_requested=False, errors=user_errors([service.NO_PARTNER])
            )
        result = await mapping.set_customer_sync(
            info.context.database,
            partner,
            node_pk(input.program_id, "Program"),
            node_pk(input.customer_id, "Customer"),
            input.sync_enabled,
        )
        if isinstance(result, list):
            return CustomerMappingPayload(
                mapping=None, sync_requested=False, errors=user_errors(result)
            )
        return CustomerMappingPayload(
            mapping=CustomerMapping.from_row(result), sync_requested=False, errors=[]
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Unmap a customer: it is no longer synced; what was synced stays in the PSA.",
    )
    async def remove_customer_mapping(
        self,
        info: Info,
        input: Annotated[
            RemoveCustomerMappingInput, strawberry.argument(description="The customer to unmap.")
        ],
    ) -> RemoveCustomerMappingPayload:
        partner = _partner(info)
        if partner is None:
            return RemoveCustomerMappingPayload(
                removed=False, errors=user_errors([service.NO_PARTNER])
            )
        errors = await mapping.remove_mapping(
            info.context.database,
            partner,
            node_pk(input.program_id, "Program"),
            node_pk(input.customer_id, "Customer"),
        )
        return RemoveCustomerMappingPayload(removed=not errors, errors=user_errors(errors))

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Sync an invoice of the program to your PSA now: the given one, or the "
        "latest issued; the run is recorded in invoiceSyncRuns.",
    )
    async def sync_invoices(
        self,
        info: Info,
        input: Annotated[
            SyncInvoicesInput, strawberry.argument(description="The program, and the invoice.")
        ],
    ) -> SyncInvoicesPayload:
        partner = _partner(info)
        if partner is None:
            return SyncInvoicesPayload(
                requested=False, invoice=None, errors=user_errors([service.NO_PARTNER])
            )
        invoice_id = None
        if input.invoice_id is not None:
            invoice_id = max(node_pk(input.invoice_id, "Invoice"), 0)
        result = await mapping.request_invoice_sync(
            info.context.database, partner, node_pk(input.program_id, "Program"), invoice_id
        )
        if isinstance(result, list):
            return SyncInvoicesPayload(requested=False, invoice=None, errors=user_errors(result))
        return SyncInvoicesPayload(requested=True, invoice=Invoice.from_model(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Approve the planned changes of a run waiting for approval, for some "
        "customers or all: they are written to your PSA shortly, if they are still what the "
        "run shows (a plan the invoices or the PSA changed since is planned and shown again "
        "instead, never written unseen).",
    )
    async def approve_invoice_sync(
        self,
        info: Info,
        input: Annotated[
            InvoiceSyncDecisionInput,
            strawberry.argument(description="The run, and which customers."),
        ],
    ) -> InvoiceSyncDecisionPayload:
        return await _decide(info, input, ApprovalDecision.APPROVED)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Dismiss the planned changes of a run waiting for approval, for some "
        "customers or all: nothing is written for them, and the run's history says so.",
    )
    async def dismiss_invoice_sync(
        self,
        info: Info,
        input: Annotated[
            InvoiceSyncDecisionInput,
            strawberry.argument(description="The run, and which customers."),
        ],
    ) -> InvoiceSyncDecisionPayload:
        return await _decide(info, input, ApprovalDecision.DISMISSED)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Revert an invoice sync run: write the adjustments that put every PSA "
        "contract service it changed back to the units it held before the run, on every "
        "day, recorded as a run of its own (trigger REVERT) in invoiceSyncRuns. Refused for "
        "a run still under way, one that changed nothing, a revert, a run already reverted, "
        "and while a later run has changed the same contract services (revert those first, "
        "newest first).",
    )
    async def revert_invoice_sync_run(
        self,
        info: Info,
        input: Annotated[
            RevertInvoiceSyncRunInput, strawberry.argument(description="The run to revert.")
        ],
    ) -> RevertInvoiceSyncRunPayload:
        partner = _partner(info)
        if partner is None:
            return RevertInvoiceSyncRunPayload(
                requested=False, run=None, errors=user_errors([service.NO_PARTNER])
            )
        result = await revert.request_revert(
            info.context.database, partner, max(node_pk(input.run_id, "InvoiceSyncRun"), 0)
        )
        if isinstance(result, list):
            return RevertInvoiceSyncRunPayload(
                requested=False, run=None, errors=user_errors(result)
            )
        return RevertInvoiceSyncRunPayload(
            requested=True, run=InvoiceSyncRun.from_row(result), errors=[]
        )


async def _decide(
    info: Info, input: InvoiceSyncDecisionInput, decision: ApprovalDecision
) -> InvoiceSyncDecisionPayload:
    partner = _partner(info)
    if partner is None:
        return InvoiceSyncDecisionPayload(
            run=None, customers=0, errors=user_errors([service.NO_PARTNER])
        )
    customer_ids = (
        [node_pk(c, "Customer") for c in input.customer_ids]
        if input.customer_ids is not None
        else None
    )
    principal = info.context.principal
    result = await approval.decide(
        info.context.database,
        partner,
        node_pk(input.run_id, "InvoiceSyncRun"),
        customer_ids,
        decision,
        principal.label if principal else "",
    )
    if isinstance(result, list):
        return InvoiceSyncDecisionPayload(run=None, customers=0, errors=user_errors(result))
    return InvoiceSyncDecisionPayload(
        run=InvoiceSyncRun.from_row(result.run), customers=result.customers, errors=[]
    )
