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
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError, errors_field
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.organisations.types import Organisation
from prism_tables import billing as models

if TYPE_CHECKING:
    from prism_graph.customers.types import Customer

LineKind = described_enum(
    DomainLineKind,
    name="InvoiceLineKind",
    description="What an invoice line bills.",
    values={
        "SUBSCRIPTION": "A subscription's licences over the line's days: one line per run of "
        "days at one quantity (a monthly subscription), or a term billed up front and its "
        "changes (an annual one).",
        "USAGE": "Metered use of a product (e.g. Azure) over the month: the sum of the "
        "customer's usage records at one rate.",
        "ONE_TIME_FEE": "A fee charged once, e.g. an onboarding fee from an order.",
        "ADJUSTMENT": "A manual credit (negative) or charge from the distributor; it is not "
        "written to the partner's PSA.",
    },
)


@strawberry.type(
    description="One line of an invoice: what one customer is billed for over some days. "
    "Amounts are at the partner's cost (the buy price), in the invoice's currency."
)
class InvoiceLine:
    kind: LineKind = strawberry.field(  # type: ignore[valid-type]
        description="What the line bills: a subscription, usage, a one-time fee or an adjustment."
    )
    sku: str | None = strawberry.field(description="The product's SKU; null for an adjustment.")
    description: str = strawberry.field(
        description="The product's name, or the adjustment's text as the distributor wrote it."
    )
    billing_term: BillingTerm | None = strawberry.field(  # type: ignore[valid-type]
        description="The subscription's billing term (monthly or annual); the product's for "
        "usage and fees; null for an adjustment."
    )
    period_start: date = strawberry.field(
        description="The first day the line bills (a fee's or an adjustment's own day)."
    )
    period_end: date = strawberry.field(
        description="The last day the line bills, inclusive (for an annual term: its last day)."
    )
    quantity: Decimal = strawberry.field(
        description="Licences held over the line's days, units used, or fees charged; for an "
        "annual subscription's change, the change (negative for a decrease); 1 for an "
        'adjustment. A decimal string without needless zeros, e.g. "15" or "19.75".'
    )
    unit_cost: Decimal = strawberry.field(
        description="The partner's buy price of one unit for a whole billing term (for an "
        "adjustment: its amount)."
    )
    unit_price: Decimal = strawberry.field(
        description="The recommended retail price of one unit, what the partner's customer "
        "pays; not charged on this invoice but carried to the partner's PSA (for an "
        "adjustment: its amount)."
    )
    amount: Decimal = strawberry.field(
        description="What the line costs the partner: quantity x unit cost, prorated by days "
        "for part of a term, rounded once (half up) to the currency's minor unit."
    )
    subscription_id: relay.GlobalID | None = strawberry.field(
        description="The CustomerSubscription a subscription line bills; null for the other kinds."
    )
    customer_id: strawberry.Private[int]

    @strawberry.field(description="The partner's customer the line is for.")
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


@strawberry.type(
    description="One partner's invoice for one program and calendar month, billed in arrears "
    "at the partner's cost. An issued invoice never changes."
)
class Invoice(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(
        description='The invoice number, e.g. "INV-202610-000042" (the month, then a serial).'
    )
    period_start: date = strawberry.field(description="The first day of the month billed.")
    period_end: date = strawberry.field(description="The last day of the month billed.")
    currency: str = strawberry.field(
        description='The program\'s currency, an ISO 4217 code such as "AUD"; every amount of '
        "the invoice is in it."
    )
    total: Decimal = strawberry.field(
        description="What the partner owes: the sum of the rounded line amounts."
    )
    issued_at: datetime = strawberry.field(description="When the billing run issued it (UTC).")
    partner_id: strawberry.Private[int]
    program_id: strawberry.Private[int]
    row: strawberry.Private[models.Invoice]

    @strawberry.field(description="The partner billed.")
    async def partner(self, info: Info) -> Organisation | None:
        row = await info.context.loaders.organisation_by_id.load(self.partner_id)
        return Organisation.from_model(row) if row else None

    @strawberry.field(description="The program (price list) whose products it bills.")
    async def program(self, info: Info) -> Program | None:
        row = await info.context.loaders.program_by_id.load(self.program_id)
        return Program.from_model(row) if row else None

    @strawberry.field(
        description="Its lines, in invoice order: by customer, then subscriptions, usage, "
        "one-time fees and adjustments."
    )
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


@strawberry.type(description="What a billing run issued.")
class RunBillingPayload:
    issued: list[Invoice] = strawberry.field(
        description="The invoices this run issued (and mailed to the partners' billing "
        "contacts); empty when the month was billed before or has nothing to bill."
    )
    already_issued: int = strawberry.field(
        description="How many of the month's invoices an earlier run had issued already; "
        "they are not issued again."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the month cannot be billed, or why a partner's invoice of it could "
        "not be built; empty when every invoice was issued. The invoices listed in `issued` "
        "are issued even when others fail."
    )


@strawberry.input(description="A customer's use of a metered product on one day.")
class RecordUsageInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer who used it.")
    product_id: relay.GlobalID = strawberry.field(
        description="The product used: one of kind USAGE."
    )
    day: date = strawberry.field(
        description="The day of use; its month must not be invoiced yet. Recording the same "
        "customer, product and day again replaces the earlier quantity."
    )
    quantity: Decimal = strawberry.field(
        description="Units used that day (the day's total), e.g. 12.5; not negative."
    )


@strawberry.type(description="Metered use of a product by a customer on a day.")
class UsageRecord:
    day: date = strawberry.field(description="The day of use.")
    quantity: Decimal = strawberry.field(description="Units used that day.")
    unit_cost: Decimal = strawberry.field(
        description="The partner's buy price of one unit on that day, in the program's currency."
    )
    unit_price: Decimal = strawberry.field(
        description="The recommended retail price of one unit on that day."
    )


@strawberry.input(description="A CSV file of usage records to import into one program.")
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
    row_errors: list[RowError] = strawberry.field(
        description="The bad rows of the file, each with its row number as a spreadsheet "
        "shows it, its column and why."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the import was refused or only partly applied (e.g. an unknown "
        "program, or bad rows: see `rowErrors`); empty when every row was good."
    )


@strawberry.type(description="The usage recorded, or why it was not.")
class UsagePayload:
    usage: UsageRecord | None = strawberry.field(
        description="The usage as recorded; null when it was refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.input(description="A one-time fee product to charge a customer.")
class AddOneTimeFeeInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer to charge.")
    product_id: relay.GlobalID = strawberry.field(
        description="The fee: a product of kind ONE_TIME_FEE."
    )
    day: date = strawberry.field(
        description="The day of the charge: it is billed on that month's invoice, at the "
        "product's prices on that day. The month must not be invoiced yet."
    )
    quantity: int = strawberry.field(
        default=1, description="How many times to charge the fee; at least 1 (the default)."
    )


@strawberry.input(description="A manual credit or charge on a customer's line of the invoice.")
class AddAdjustmentInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer it is for.")
    program_id: relay.GlobalID = strawberry.field(
        description="The program whose invoice carries it."
    )
    day: date = strawberry.field(
        description="The day it is dated: it is billed on that month's invoice, which must "
        "not be issued yet."
    )
    amount: Decimal = strawberry.field(
        description="The amount in the program's currency: negative for a credit, positive "
        "for a charge, never zero."
    )
    description: str = strawberry.field(
        description="What it is for, as the invoice line shows it; at most 500 characters."
    )


@strawberry.type(description="A one-time fee or a manual adjustment, billed in its month.")
class Charge:
    kind: LineKind = strawberry.field(  # type: ignore[valid-type]
        description="ONE_TIME_FEE or ADJUSTMENT."
    )
    day: date = strawberry.field(description="The day it is dated; its month's invoice bills it.")
    sku: str | None = strawberry.field(description="The fee's SKU; null for an adjustment.")
    quantity: int = strawberry.field(description="How many fees; 1 for an adjustment.")
    amount: Decimal = strawberry.field(
        description="Unit cost x quantity for a fee, or the adjustment's amount, in the "
        "program's currency."
    )
    description: str = strawberry.field(
        description="The fee product's name, or the adjustment's text."
    )


@strawberry.type(description="The fee or adjustment recorded, or why it was not.")
class ChargePayload:
    charge: Charge | None = strawberry.field(
        description="The charge as recorded; null when it was refused."
    )
    errors: list[UserError] = errors_field()
