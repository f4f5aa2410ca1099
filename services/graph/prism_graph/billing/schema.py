"""Billing queries and mutations (P3): the distributor runs billing and records what it bills;
partners see their own invoices."""

from __future__ import annotations

from typing import Annotated

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
        description="Issued invoices, newest first: a partner's staff see their partner's own, "
        "the distributor's see every partner's. A customer's contacts see none.",
    )
    async def invoices(
        self,
        info: Info,
        month: Annotated[
            str | None,
            strawberry.argument(
                description='Only the invoices of this month, as YYYY-MM (e.g. "2026-10").'
            ),
        ] = None,
        program_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Only the invoices of this program."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
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
        description="One invoice with its lines and files; null when there is none, or it is "
        "another partner's.",
    )
    async def invoice(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The invoice's id.")],
    ) -> Invoice | None:
        pk = node_pk(id, "Invoice")
        row = await info.context.loaders.invoice_by_id.load(pk) if pk > 0 else None
        return Invoice.from_model(row) if row else None


@strawberry.type
class BillingMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_BILLING)],
        description=(
            "Issue a month's invoices, one per partner and program with something to bill, "
            "and mail each to the partner's billing contacts with its PDF. Running it again "
            "issues nothing twice. For the distributor only (its staff and API clients)."
        ),
    )
    async def run_billing(
        self,
        info: Info,
        input: Annotated[RunBillingInput, strawberry.argument(description="The month to bill.")],
    ) -> RunBillingPayload:
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
    async def import_usage(
        self,
        info: Info,
        input: Annotated[
            ImportUsageInput,
            strawberry.argument(description="The program, the file and how to apply it."),
        ],
    ) -> ImportUsagePayload:
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
        description="Record a customer's use of a metered product on a day (e.g. Azure), at "
        "the product's prices on that day; it is billed on that month's invoice.",
    )
    async def record_usage(
        self,
        info: Info,
        input: Annotated[
            RecordUsageInput,
            strawberry.argument(description="The customer, product, day and quantity."),
        ],
    ) -> UsagePayload:
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
        description="Charge a customer a one-time fee product, on the invoice of its day's month.",
    )
    async def add_one_time_fee(
        self,
        info: Info,
        input: Annotated[
            AddOneTimeFeeInput,
            strawberry.argument(description="The customer, the fee, its day and quantity."),
        ],
    ) -> ChargePayload:
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
        description="Add a manual credit (negative) or charge for a customer to the invoice of "
        "its day's month: a line of kind ADJUSTMENT, which is not written to the partner's PSA.",
    )
    async def add_adjustment(
        self,
        info: Info,
        input: Annotated[
            AddAdjustmentInput,
            strawberry.argument(description="The customer, program, day, amount and text."),
        ],
    ) -> ChargePayload:
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
