"""The API's order types (O2-O5): orders, their priced lines, the customer's attachments, and
the inputs that create, save and submit an order. The RFI's types are `orders.rfi_types`."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.access import Permission, PrincipalKind
from prism_domain.money import Money, exact_amount
from prism_domain.orders import OrderQuote, PriceBasis, PricedLine
from prism_graph.access import requires
from prism_graph.catalogue.types import BillingTerm, Product, ProductKind
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import UserError, errors_field
from prism_graph.common.ids import decode_id
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.customers.types import Customer
from prism_graph.orders.pricing import PricedOrder, price_lines
from prism_graph.orders.rfi_types import Rfi
from prism_graph.organisations.types import Organisation
from prism_graph.organisations.zones import callers_today, today_in_zone
from prism_graph.subscriptions.types import Subscription
from prism_tables import orders as models
from prism_tables.orders import reference

OrderStatus = described_enum(
    models.OrderStatus,
    name="OrderStatus",
    description="Whether an order is still being prepared or has been placed.",
    values={
        "DRAFT": "Saved but not submitted: it can still change (`saveOrder`) or be thrown away "
        "(`discardOrder`), and the customer's status stays as it is. A customer's contacts do "
        "not see drafts.",
        "SUBMITTED": "Placed, and final: its prices are kept as they were on submit, its "
        "subscriptions exist, its addendum and Request for Information link have been mailed. "
        "It can no longer change or be discarded.",
    },
)
PriceBasisEnum = described_enum(
    PriceBasis,
    name="PriceBasis",
    description="Whose prices an order's amounts are.",
    values={
        "PARTNER_COST": "The partner's contracted (buy) prices: what the partner pays. What "
        "the partner's staff and API clients see.",
        "CUSTOMER_PRICE": "The recommended retail prices the customer pays, as on its "
        "invoices. What a customer's contacts see.",
    },
)


def price_basis_of(info: Info) -> PriceBasis:
    """A customer's contacts see their orders at their own prices, staff at the partner's."""
    principal = info.context.principal
    if principal is not None and principal.kind is PrincipalKind.CONTACT:
        return PriceBasis.CUSTOMER_PRICE
    return PriceBasis.PARTNER_COST


def _amount(value: Money) -> Decimal:
    return exact_amount(value.amount, value.currency)


@strawberry.type(
    description="A document kept on a customer, e.g. the order addendum PDF stored when an "
    "order is submitted."
)
class CustomerAttachment(relay.Node):
    id: relay.NodeID[int]
    filename: str = strawberry.field(
        description="The file's name, e.g. order-addendum-ORD-000042.pdf."
    )
    content_type: str = strawberry.field(
        description="The document's media type, e.g. application/pdf."
    )
    size: int = strawberry.field(description="In bytes.")
    created_at: datetime = strawberry.field(description="When it was stored (UTC).")
    customer_id: strawberry.Private[int]

    @strawberry.field(description="The document itself, base64-encoded (at most a few MB).")
    async def content_base64(self, info: Info) -> str:
        content = await info.context.loaders.attachment_content_by_id.load(self.id)
        return base64.b64encode(content or b"").decode()

    @classmethod
    def from_model(cls, row: models.CustomerAttachment) -> CustomerAttachment:
        return cls(
            id=row.id,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            created_at=row.created_at,
            customer_id=row.customer_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[CustomerAttachment | None]:
        rows = await info.context.loaders.attachment_by_id.load_many(
            [decode_id(i) for i in node_ids]
        )
        return [cls.from_model(r) if r else None for r in rows]


@strawberry.type(description="A product on an order, at the order's `priceBasis`.")
class OrderLine:
    sku: str = strawberry.field(description="The product's SKU.")
    name: str = strawberry.field(description="The product's name.")
    kind: ProductKind = strawberry.field(  # type: ignore[valid-type]
        description="A licence, usage (billed from usage records, nothing up front) or a "
        "one-time fee."
    )
    billing_term: BillingTerm = strawberry.field(  # type: ignore[valid-type]
        description="Whether the line is charged monthly or annually."
    )
    quantity: int = strawberry.field(description="How many were ordered, at least 1.")
    unit_price: Decimal = strawberry.field(
        description="Per billing term: the partner's buy price, or the customer's price when "
        "the order's `priceBasis` is CUSTOMER_PRICE."
    )
    amount: Decimal | None = strawberry.field(
        description="Per billing term (month or year); once for a one-time fee. Null until "
        "the order has permitted users and a start date."
    )
    first_payment_amount: Decimal | None = strawberry.field(
        description="In the first payment: prorated by days for monthly lines."
    )
    product_id: strawberry.Private[int]
    subscription_id: strawberry.Private[int | None]

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CATALOGUE)],
        description="The catalogue's product, with its price list (the partner's staff and "
        "API clients; a customer's contact is refused).",
    )
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.product_by_id.load(self.product_id)
        return Product.from_model(row) if row else None

    @strawberry.field(description="The subscription it created, once the order is submitted.")
    async def subscription(self, info: Info) -> Subscription | None:
        if self.subscription_id is None:
            return None
        row = await info.context.loaders.subscription_by_id.load(self.subscription_id)
        return Subscription.from_model(row) if row else None


@strawberry.type(
    description="An order for a prospect or customer: a draft until submitted. The amounts "
    "are at `priceBasis`: the partner's contracted prices for the partner's staff, the "
    "customer's prices for its contacts (who see their submitted orders only); null while the "
    "order lacks what pricing needs (products, permitted users, a start date)."
)
class Order(relay.Node):
    id: relay.NodeID[int]
    reference: str = strawberry.field(
        description="The order's reference as people quote it, in the addendum and the mails, "
        "e.g. ORD-000042."
    )
    status: OrderStatus = strawberry.field(  # type: ignore[valid-type]
        description="A draft until submitted."
    )
    permitted_users: int | None = strawberry.field(
        description="How many users the customer may have on the service under this order, at "
        "least 1; shown on the addendum. Null until set; needed to submit."
    )
    start_date: date | None = strawberry.field(
        description="When the subscriptions start (an ISO date); the prices are those in force "
        "on that day. Null until set; needed to submit."
    )
    order_number: str | None = strawberry.field(
        description="The partner's purchase order number, at most 50 characters; null when none."
    )
    order_number_not_required: bool = strawberry.field(
        description="True when the partner uses no purchase orders: the order is then "
        "submitted without an order number."
    )
    msa_acknowledged: bool = strawberry.field(
        description="Governed by the Master Service Provider Agreement in effect."
    )
    authorised_acknowledged: bool = strawberry.field(
        description="The submitter is authorised to place the order."
    )
    implementation_lead_name: str | None = strawberry.field(
        description="The customer's implementation lead, who is sent the Request for "
        "Information on submit. Null until set; needed to submit."
    )
    implementation_lead_email: str | None = strawberry.field(
        description="The implementation lead's e-mail address, in lower case: where the "
        "Request for Information link goes. Null until set; needed to submit."
    )
    submitted_at: datetime | None = strawberry.field(
        description="When the order was submitted (UTC); null while it is a draft."
    )
    submitted_by: str | None = strawberry.field(
        description='Who submitted it, as the addendum names them: a user as "Name <e-mail>", '
        'an API client as "name (API client ID)". Null while it is a draft.'
    )
    created_at: datetime = strawberry.field(description="When the order was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the order last changed (UTC).")
    customer_id: strawberry.Private[int]
    row: strawberry.Private[models.Order]
    cache: strawberry.Private[dict[str, Any]] = dataclass_field(default_factory=dict)

    @strawberry.field(description="The prospect or customer ordered for.")
    async def customer(self, info: Info) -> Customer | None:
        row = await info.context.loaders.customer_by_id.load(self.customer_id)
        return Customer.from_model(row) if row else None

    @strawberry.field(description="The company name, from the prospect.")
    async def company_name(self, info: Info) -> str | None:
        row = await info.context.loaders.customer_by_id.load(self.customer_id)
        return row.name if row else None

    @strawberry.field(description="The MSP (partner) the order is placed by.")
    async def msp(self, info: Info) -> Organisation | None:
        customer = await info.context.loaders.customer_by_id.load(self.customer_id)
        if customer is None:
            return None
        row = await info.context.loaders.organisation_by_id.load(customer.owner_id)
        return Organisation.from_model(row) if row else None

    async def _today(self, info: Info) -> date:
        """Today for the partner ordering, which prices an order without a start date."""
        loaders = info.context.loaders
        customer = await loaders.customer_by_id.load(self.customer_id)
        if customer is None:
            return await callers_today(info.context)
        return today_in_zone(await loaders.time_zone_by_organisation.load(customer.owner_id))

    @strawberry.field(
        name="priceBasis", description="Whose prices the amounts and unit prices are."
    )
    def price_basis_field(self, info: Info) -> PriceBasisEnum:  # type: ignore[valid-type]
        return price_basis_of(info)

    async def _priced(self, info: Info) -> tuple[PricedOrder, list[PricedLine], OrderQuote | None]:
        if "priced" not in self.cache:
            loaders = info.context.loaders
            lines = await loaders.lines_by_order.load(self.id)
            ids = [line.product_id for line in lines]
            products = {p.id: p for p in await loaders.ordered_product_by_id.load_many(ids) if p}
            prices = dict(
                zip(ids, await loaders.ordered_prices_by_product.load_many(ids), strict=True)
            )
            program_ids = sorted({p.program_id for p in products.values()})
            programs = {
                p.id: p for p in await loaders.ordered_program_by_id.load_many(program_ids) if p
            }
            on = self.row.start_date or await self._today(info)
            priced = price_lines(self.row, lines, products, prices, programs, on=on)
            quote = priced.quote(self.row, price_basis_of(info))
            self.cache["priced"] = (priced, quote)
        priced, quote = self.cache["priced"]
        return priced, list(quote.lines) if quote else [], quote

    @strawberry.field(description="The products ordered, with their prices.")
    async def lines(self, info: Info) -> list[OrderLine]:
        priced, quoted, _ = await self._priced(info)
        result = []
        # A line that cannot be priced (no price in force on the day) is not shown.
        for index, (row, line) in enumerate(zip(priced.rows, priced.lines, strict=True)):
            entry = line.product
            quoted_line = quoted[index] if index < len(quoted) else None
            result.append(
                OrderLine(
                    sku=entry.sku,
                    name=entry.name,
                    kind=entry.kind,
                    billing_term=entry.billing_term,
                    quantity=line.quantity,
                    unit_price=exact_amount(
                        price_basis_of(info).unit_price(entry).amount, entry.currency
                    ),
                    amount=_amount(quoted_line.amount) if quoted_line else None,
                    first_payment_amount=(
                        _amount(quoted_line.first_payment_amount) if quoted_line else None
                    ),
                    product_id=row.product_id,
                    subscription_id=row.subscription_id,
                )
            )
        return result

    @strawberry.field(description="The currency of the prices (the programs').")
    async def currency(self, info: Info) -> str | None:
        priced, _, _ = await self._priced(info)
        return priced.currency

    @strawberry.field(description="Monthly licences: quantity x unit price, per month.")
    async def ongoing_monthly_payment(self, info: Info) -> Decimal | None:
        _, _, quote = await self._priced(info)
        return _amount(quote.ongoing_monthly_payment) if quote else None

    @strawberry.field(description="Annual licences, per year, charged up front.")
    async def annual_payment(self, info: Info) -> Decimal | None:
        _, _, quote = await self._priced(info)
        return _amount(quote.annual_payment) if quote else None

    @strawberry.field(description="One time (up front) fees.")
    async def one_time_fees(self, info: Info) -> Decimal | None:
        _, _, quote = await self._priced(info)
        return _amount(quote.one_time_fees) if quote else None

    @strawberry.field(
        description="One-time fees, annual lines, and the monthly lines prorated by days from "
        "the start date to the end of its month."
    )
    async def first_payment(self, info: Info) -> Decimal | None:
        _, _, quote = await self._priced(info)
        return _amount(quote.first_payment) if quote else None

    @strawberry.field(description="The days the first payment covers for monthly lines.")
    async def first_period_end(self, info: Info) -> date | None:
        _, _, quote = await self._priced(info)
        return quote.first_period.end if quote else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDER_DOCUMENTS)],
        description="The order addendum (a PDF at the partner's prices), once submitted. For "
        "the partner's staff; a customer's contact is refused.",
    )
    async def addendum(self, info: Info) -> CustomerAttachment | None:
        row = await info.context.loaders.attachment_by_order.load(self.id)
        return CustomerAttachment.from_model(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDER_DOCUMENTS)],
        description="The Request for Information sent to the implementation lead, once "
        "submitted. For the partner's staff; a customer's contact is refused.",
    )
    async def rfi(self, info: Info) -> Rfi | None:
        row = await info.context.loaders.rfi_by_order.load(self.id)
        return Rfi.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: models.Order) -> Order:
        return cls(
            id=row.id,
            reference=reference(row.id),
            status=row.status,
            permitted_users=row.permitted_users,
            start_date=row.start_date,
            order_number=row.order_number,
            order_number_not_required=row.order_number_not_required,
            msa_acknowledged=row.msa_acknowledged,
            authorised_acknowledged=row.authorised_acknowledged,
            implementation_lead_name=row.implementation_lead_name,
            implementation_lead_email=row.implementation_lead_email,
            submitted_at=row.submitted_at,
            submitted_by=row.submitted_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            customer_id=row.customer_id,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Order | None]:
        return await load_nodes(info.context.loaders.order_by_id, node_ids, cls.from_model)


@strawberry.type(description="A page of orders.")
class OrderConnection(Counted, relay.Connection[Order]):
    pass


@strawberry.input(description="A product to order, and how many.")
class OrderLineInput:
    product_id: relay.GlobalID = strawberry.field(
        description="A product of the catalogue, not retired, priced in the same currency as "
        "the order's other products; each product once per order."
    )
    quantity: int = strawberry.field(description="How many, at least 1.")


@strawberry.input(description="Order fields; on save and submit, an omitted field is unchanged.")
class OrderFieldsInput:
    permitted_users: int | None = strawberry.field(
        default=None,
        description="How many users the customer may have on the service, at least 1; needed "
        "to submit.",
    )
    start_date: date | None = strawberry.field(
        default=None, description="When the subscriptions start; not in the past at submit."
    )
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None, description="Every product of the order (replaces the lines saved)."
    )
    order_number: str | None = strawberry.field(
        default=None,
        description="The purchase order number, at most 50 characters; needed to submit unless "
        "`orderNumberNotRequired` is true. An empty string removes it.",
    )
    order_number_not_required: bool | None = strawberry.field(
        default=None,
        description="True when the partner uses no purchase orders: then no order number is "
        "needed to submit.",
    )
    msa_acknowledged: bool | None = strawberry.field(
        default=None,
        description="Confirms that the order is governed by the Master Service Provider "
        "Agreement in effect; must be true to submit.",
    )
    authorised_acknowledged: bool | None = strawberry.field(
        default=None,
        description="Confirms that the submitter is authorised to place the order; must be "
        "true to submit.",
    )
    implementation_lead_name: str | None = strawberry.field(
        default=None,
        description="The customer's implementation lead, up to 200 characters: who is sent the "
        "Request for Information; needed to submit.",
    )
    implementation_lead_email: str | None = strawberry.field(
        default=None,
        description="The implementation lead's e-mail address: the Request for Information "
        "link is sent to it on submit; needed to submit. An empty string removes it.",
    )


@strawberry.input(
    description="A new draft order: the customer it is for, and any of the order's fields "
    "(all may be given later)."
)
class CreateOrderInput(OrderFieldsInput):
    customer_id: relay.GlobalID = strawberry.field(description="A prospect or a customer.")


@strawberry.input(description="Changes to a draft order; an omitted field is left as it is.")
class SaveOrderInput(OrderFieldsInput):
    id: relay.GlobalID = strawberry.field(description="The draft order to change.")


@strawberry.input(
    description="The order to submit, with any last changes; an omitted field is left as it is."
)
class SubmitOrderInput(OrderFieldsInput):
    id: relay.GlobalID = strawberry.field(description="The order to submit.")


@strawberry.input(description="Which draft order to throw away.")
class DiscardOrderInput:
    id: relay.GlobalID = strawberry.field(description="A draft order.")


@strawberry.type(description="The outcome of discarding a draft order.")
class DiscardOrderPayload:
    discarded_id: relay.GlobalID | None = strawberry.field(
        description="The id of the discarded order; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of a change to an order.")
class OrderPayload:
    order: Order | None = strawberry.field(description="The order as it is now; null when refused.")
    errors: list[UserError] = errors_field()
