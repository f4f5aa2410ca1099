"""Billing queries and mutations (P3): the distributor runs billing and records what it bills;
partners see their own invoices."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.money import exact_amount
from prism_domain.periods import Period
from prism_graph.access import requires, visible_invoices
from prism_graph.billing import charges, run, usage_import
from prism_graph.billing.types import (
    AddAdjustmentInput,
    AddOneTimeFeeInput,
    Charge,
    ChargePayload,
    ImportUsageInput,
    ImportUsagePayload,
    Invoice,
    InvoiceConnection,
    RecordUsageInput,
    RunBillingInput,
    RunBillingPayload,
    UsagePayload,
    UsageRecord,
)
from prism_graph.catalogue.types import RowError
from prism_graph.common.decimals import fixed
from prism_graph.common.errors import BadRequest, user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import Page, SortKey, connection, paginate
from prism_graph.context import Info
from prism_graph.organisations import zones
from prism_tables import billing as models


async def _currency(info: Info, program_id: int) -> str:
    program = await info.context.loaders.program_by_id.load(program_id)
    assert program is not None  # a foreign key guarantees it
    return program.currency


async def _charge_payload(info: Info, result: models.Charge | list[FieldError]) -> ChargePayload:
    if isinstance(result, list):
        return ChargePayload(charge=None, errors=user_errors(result))
    currency = await _currency(info, result.program_id)
    return ChargePayload(
        charge=Charge(
            kind=result.kind,
            day=result.day,
            sku=result.sku,
            quantity=result.quantity,
            amount=exact_amount(result.unit_cost * result.quantity, currency),
            description=result.description,
        ),
        errors=[],
    )


@strawberry.type
class BillingQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_BILLING)],
        description="Invoices, newest first; a partner sees its own.",
    )
    async def invoices(
        self,
        info: Info,
        month: str | None = None,
        program_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> InvoiceConnection:
        stmt = select(models.Invoice).where(visible_invoices(info.context.scope))
        if month is not None:
            try:
                period = Period.parse_month(month)
            except ValueError as exc:
                raise BadRequest("`month` must look like 2026-10.") from exc
            stmt = stmt.where(models.Invoice.period_start == period.start)
        if program_id is not None:
            stmt = stmt.where(models.Invoice.program_id == node_pk(program_id, "Program"))
        key = SortKey((models.Invoice.id,), descending=True)
        page: Page[models.Invoice] = await paginate(
            info.context.reader.scalars,
            stmt,
            key,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(InvoiceConnection, page, Invoice.from_model, filtered=stmt)

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_BILLING)],
        description="One invoice with its lines; null when there is none.",
    )
    async def invoice(self, info: Info, id: relay.GlobalID) -> Invoice | None:
        pk = node_pk(id, "Invoice")
        row = await info.context.loaders.invoice_by_id.load(pk) if pk > 0 else None
        return Invoice.from_model(row) if row else None


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_BILLING)],
        description=(
            "Issue the month's invoices, one per partner and program (P3); running it again "
            "issues nothing twice."
        ),
    )
    async def run_billing(self, info: Info, input: RunBillingInput) -> RunBillingPayload:
        today = await zones.today_for(info.context.reader.scalar, None)
        period = run.billable_period(input.month, today)
        if isinstance(period, FieldError):
            return RunBillingPayload(issued=[], already_issued=0, errors=user_errors([period]))
        billed = await run.run_billing(info.context.database, period)
        return RunBillingPayload(
            issued=[Invoice.from_model(r) for r in billed.issued],
            already_issued=billed.already_issued,
            errors=user_errors(billed.errors),
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_BILLING)],
        description=(
            "Import usage records from a CSV file: a dry run (the default) reports what would "
            "be recorded; nothing is recorded while any row is bad, unless `allowPartial`. A "
            "row replaces the customer's usage of that SKU on that day, so a file imported "
            "twice counts once."
        ),
    )
    async def import_usage(self, info: Info, input: ImportUsageInput) -> ImportUsagePayload:
        result = await usage_import.import_usage(
            info.context.database,
            info.context.scope,
            node_pk(input.program_id, "Program"),
            csv_text=input.csv,
            dry_run=input.dry_run,
            allow_partial=input.allow_partial,
        )
        if isinstance(result, list):
            return ImportUsagePayload(
                applied=False,
                rows=0,
                created=0,
                replaced=0,
                unchanged=0,
                row_errors=[],
                errors=user_errors(result),
            )
        errors = []
        if result.row_errors:
            errors.append(
                FieldError(
                    "csv",
                    ErrorCode.INVALID,
                    f"{len({e.row for e in result.row_errors})} row(s) of the file are bad; "
                    + (
                        "the good rows were recorded."
                        if result.applied
                        else "nothing was recorded (see rowErrors)."
                    ),
                )
            )
        return ImportUsagePayload(
            applied=result.applied,
            rows=result.rows,
            created=result.created,
            replaced=result.replaced,
            unchanged=result.unchanged,
            row_errors=[
                RowError(row=e.row, column=e.column, code=e.code, message=e.message)
                for e in result.row_errors
            ],
            errors=user_errors(errors),
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_BILLING)],
        description="Record a customer's use of a metered product on a day (e.g. Azure).",
    )
    async def record_usage(self, info: Info, input: RecordUsageInput) -> UsagePayload:
        result = await info.context.database.run(
            charges.record_usage,
            info.context.scope,
            customer_id=node_pk(input.customer_id, "Customer"),
            product_id=node_pk(input.product_id, "Product"),
            day=input.day,
            quantity=input.quantity,
        )
        if isinstance(result, list):
            return UsagePayload(usage=None, errors=user_errors(result))
        product = await info.context.loaders.product_by_id.load(result.product_id)
        assert product is not None  # a foreign key guarantees it
        currency = await _currency(info, product.program_id)
        return UsagePayload(
            usage=UsageRecord(
                day=result.day,
                quantity=fixed(result.quantity),
                unit_cost=exact_amount(result.unit_cost, currency),
                unit_price=exact_amount(result.unit_price, currency),
            ),
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_BILLING)],
        description="Charge a one-time fee product once, on the invoice of its month.",
    )
    async def add_one_time_fee(self, info: Info, input: AddOneTimeFeeInput) -> ChargePayload:
        result = await info.context.database.run(
            charges.add_one_time_fee,
            info.context.scope,
            customer_id=node_pk(input.customer_id, "Customer"),
            product_id=node_pk(input.product_id, "Product"),
            day=input.day,
            quantity=input.quantity,
        )
        return await _charge_payload(info, result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_BILLING)],
        description="A manual credit (negative) or charge: its own line kind, never synced.",
    )
    async def add_adjustment(self, info: Info, input: AddAdjustmentInput) -> ChargePayload:
        result = await info.context.database.run(
            charges.add_adjustment,
            info.context.scope,
            customer_id=node_pk(input.customer_id, "Customer"),
            program_id=node_pk(input.program_id, "Program"),
            day=input.day,
            amount=input.amount,
            description=input.description,
        )
        return await _charge_payload(info, result)
