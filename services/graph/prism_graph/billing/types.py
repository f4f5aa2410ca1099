from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from prism_domain.invoicing import LineKind as DomainLineKind
from prism_domain.money import exact_amount
from prism_graph.billing import files
from prism_graph.billing.document import invoice_number
from prism_graph.catalogue.types import BillingTerm, Program, RowError
from prism_graph.common.connections import Counted
from prism_graph.common.decimals import fixed
from prism_graph.common.errors import UserError
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.organisations.types import Organisation
from prism_tables import billing as models

if TYPE_CHECKING:
    from prism_graph.customers.types import Customer

LineKind = strawberry.enum(
    DomainLineKind,
    name="InvoiceLineKind",
    description="ADJUSTMENT: a manual credit (negative) or charge, never synced (S5).",
)


@strawberry.type(description="One line of an invoice (P3); amounts at the partner's cost.")
class InvoiceLine:
    kind: LineKind  # type: ignore[valid-type]
    sku: str | None
    description: str
    billing_term: BillingTerm | None  # type: ignore[valid-type]
    period_start: date
    period_end: date
    quantity: Decimal
    unit_cost: Decimal
    unit_price: Decimal = strawberry.field(description="RRP, for the PSA (S3, S5).")
    amount: Decimal = strawberry.field(description="Prorated by days, rounded once, half up.")
    subscription_id: relay.GlobalID | None
    customer_id: strawberry.Private[int]

    @strawberry.field
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("prism_graph.customers.types")] | None:
        from prism_graph.customers.types import Customer

        row = await info.context.loaders.customer_by_id.load(self.customer_id)
        return Customer.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: models.InvoiceLine, currency: str) -> InvoiceLine:
        return cls(
            kind=row.kind,
            sku=row.sku,
            description=row.description,
            billing_term=row.billing_term,
            period_start=row.period_start,
            period_end=row.period_end,
            quantity=fixed(row.quantity),
            unit_cost=exact_amount(row.unit_cost, currency),
            unit_price=exact_amount(row.unit_price, currency),
            amount=exact_amount(row.amount, currency),
            subscription_id=relay.GlobalID("CustomerSubscription", str(row.subscription_id))
            if row.subscription_id
            else None,
            customer_id=row.customer_id,
        )


@strawberry.type(description="One partner's invoice for one program and month (P3).")
class Invoice(relay.Node):
    id: relay.NodeID[int]
    number: str
    period_start: date
    period_end: date
    currency: str
    total: Decimal = strawberry.field(description="The sum of the rounded line amounts.")
    issued_at: datetime
    partner_id: strawberry.Private[int]
    program_id: strawberry.Private[int]
    row: strawberry.Private[models.Invoice]

    @strawberry.field
    async def partner(self, info: Info) -> Organisation | None:
        row = await info.context.loaders.organisation_by_id.load(self.partner_id)
        return Organisation.from_model(row) if row else None

    @strawberry.field
    async def program(self, info: Info) -> Program | None:
        row = await info.context.loaders.program_by_id.load(self.program_id)
        return Program.from_model(row) if row else None

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.lines_by_invoice.load(self.id)
        return [InvoiceLine.from_model(r, self.currency) for r in rows]

    @strawberry.field(
        description="The invoice as a PDF file: the same file, byte for byte, that the mail "
        "to the partner's billing contacts attached when the invoice was issued."
    )
    async def pdf(self, info: Info) -> InvoiceFile:
        lines, names = await self._contents(info)
        attachment = files.invoice_pdf(self.row, lines, names)
        return InvoiceFile(
            filename=attachment.filename,
            content_type=attachment.content_type,
            content=attachment.content,
        )

    @strawberry.field(
        description="The invoice's lines and total as CSV text (a header row, one row per "
        "line, a TOTAL row), for spreadsheets and imports into a PSA. It is not mailed."
    )
    async def csv(self, info: Info) -> str:
        lines, names = await self._contents(info)
        return files.invoice_csv(self.row, lines, names)

    async def _contents(self, info: Info) -> tuple[list[models.InvoiceLine], files.Names]:
        loaders = info.context.loaders
        lines = await loaders.lines_by_invoice.load(self.id)
        customers = await loaders.customer_by_id.load_many(
            sorted({line.customer_id for line in lines})
        )
        partner = await loaders.organisation_by_id.load(self.partner_id)
        program = await loaders.program_by_id.load(self.program_id)
        return lines, files.Names(
            partner=partner.name if partner else "",
            program=program.name if program else "",
            customers={c.id: c.name for c in customers if c is not None},
        )

    @classmethod
    def from_model(cls, row: models.Invoice) -> Invoice:
        return cls(
            id=row.id,
            number=invoice_number(row.period_start, row.id),
            period_start=row.period_start,
            period_end=row.period_end,
            currency=row.currency,
            total=exact_amount(row.total, row.currency),
            issued_at=row.issued_at,
            partner_id=row.partner_id,
            program_id=row.program_id,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Invoice | None]:
        return await load_nodes(info.context.loaders.invoice_by_id, node_ids, cls.from_model)


@strawberry.type(description="A file an invoice is rendered to, to download or show.")
class InvoiceFile:
    filename: str = strawberry.field(
        description='A file name to save it under, e.g. "INV-202610-000042.pdf".'
    )
    content_type: str = strawberry.field(description='Its media type, e.g. "application/pdf".')
    content: strawberry.Private[bytes]

    @strawberry.field(description="Its size in bytes.")
    def size(self) -> int:
        return len(self.content)

    @strawberry.field(description="The file itself, base64-encoded.")
    def content_base64(self) -> str:
        return base64.b64encode(self.content).decode()


@strawberry.type(description="A page of invoices.")
class InvoiceConnection(Counted, relay.Connection[Invoice]):
    pass


@strawberry.input(description="Which month the billing run bills.")
class RunBillingInput:
    month: str = strawberry.field(
        description='The calendar month to bill, as YYYY-MM (e.g. "2026-10"). It must be over '
        "in the distributor's time zone: billing is in arrears."
    )


@strawberry.type
class RunBillingPayload:
    issued: list[Invoice] = strawberry.field(description="Invoices issued by this run.")
    already_issued: int = strawberry.field(description="Invoices of the month issued before.")
    errors: list[UserError]


@strawberry.input
class RecordUsageInput:
    customer_id: relay.GlobalID
    product_id: relay.GlobalID
    day: date
    quantity: Decimal = strawberry.field(description="Units used that day, e.g. 12.5.")


@strawberry.type(description="Metered use of a product by a customer on a day.")
class UsageRecord:
    day: date
    quantity: Decimal
    unit_cost: Decimal
    unit_price: Decimal


@strawberry.input
class ImportUsageInput:
    program_id: relay.GlobalID = strawberry.field(description="The program the SKUs are in.")
    csv: str = strawberry.field(
        description=(
            "Header row customer,sku,day,quantity; customer is the customer's id or domain, "
            "day YYYY-MM-DD; one row per customer, SKU and day (the day's total)."
        )
    )
    dry_run: bool = strawberry.field(
        default=True, description="Only report what would be recorded (the default)."
    )
    allow_partial: bool = strawberry.field(
        default=False,
        description="Record the good rows even when some are bad (they are reported).",
    )


@strawberry.type(description="What a usage import recorded, or would record on a dry run.")
class ImportUsagePayload:
    applied: bool = strawberry.field(
        description="False on a dry run, when rows are bad, or when nothing changes."
    )
    rows: int = strawberry.field(description="Good rows in the file.")
    created: int = strawberry.field(description="Customer, SKU and day not recorded before.")
    replaced: int = strawberry.field(description="Recorded before with another quantity.")
    unchanged: int = strawberry.field(description="Recorded before exactly so (a re-import).")
    row_errors: list[RowError]
    errors: list[UserError]


@strawberry.type
class UsagePayload:
    usage: UsageRecord | None
    errors: list[UserError]


@strawberry.input
class AddOneTimeFeeInput:
    customer_id: relay.GlobalID
    product_id: relay.GlobalID
    day: date
    quantity: int = 1


@strawberry.input
class AddAdjustmentInput:
    customer_id: relay.GlobalID
    program_id: relay.GlobalID
    day: date
    amount: Decimal = strawberry.field(description="Negative for a credit.")
    description: str


@strawberry.type(description="A one-time fee or a manual adjustment, billed in its month.")
class Charge:
    kind: LineKind  # type: ignore[valid-type]
    day: date
    sku: str | None
    quantity: int
    amount: Decimal = strawberry.field(description="Unit cost x quantity, or the adjustment.")
    description: str


@strawberry.type
class ChargePayload:
    charge: Charge | None
    errors: list[UserError]
