"""The catalogue's GraphQL object types: programs, their products and price versions, and
the row errors of an import. Inputs are `inputs.py`, payloads `payloads.py`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry import relay

from prism_domain.catalogue import BillingTerm as DomainBillingTerm
from prism_domain.catalogue import ProductKind as DomainProductKind
from prism_domain.money import exact_amount
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.errors import ErrorCode
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_tables import catalogue as models

BillingTerm = described_enum(
    DomainBillingTerm,
    name="BillingTerm",
    description="How often a product is billed; its prices are per this term.",
    values={
        "MONTHLY": "Billed every month; prices are per unit per month.",
        "ANNUAL": "Billed once a year; prices are per unit per year.",
    },
)
ProductKind = described_enum(
    DomainProductKind,
    name="ProductKind",
    description="How a product is charged.",
    values={
        "LICENCE": "Per seat (licence) per billing term.",
        "USAGE": "Metered (e.g. Azure): billed from the usage recorded each month.",
        "ONE_TIME_FEE": "Charged once, e.g. a set-up or onboarding fee.",
    },
)


def price(value: Decimal, currency: str) -> Decimal:
    return exact_amount(value, currency)


@strawberry.type(description="A vendor program the distributor sells, with its price list.")
class Program(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="The program's name, e.g. Microsoft CSP; unique.")
    currency: str = strawberry.field(description="ISO 4217 code of its prices, e.g. AUD.")
    retired_at: datetime | None = strawberry.field(
        description="When the program was retired (off the catalogue for new business: its "
        "products are retired, no new tenants; what exists keeps billing); null while it is "
        "sold."
    )

    @strawberry.field(description="Whether the program was retired (see `retiredAt`).")
    def retired(self) -> bool:
        return self.retired_at is not None

    @classmethod
    def from_model(cls, row: models.Program) -> Program:
        return cls(id=row.id, name=row.name, currency=row.currency, retired_at=row.retired_at)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Program | None]:
        return await load_nodes(info.context.loaders.program_by_id, node_ids, cls.from_model)


@strawberry.type(description="Prices in force from `effectiveFrom` until the next version.")
class PriceVersion:
    effective_from: date = strawberry.field(description="The first day these prices apply.")
    buy_price: Decimal = strawberry.field(
        description="The partner's cost per unit and billing term, in the program's currency."
    )
    rrp: Decimal = strawberry.field(
        description="Recommended retail (sell) price per unit and billing term, in the "
        "program's currency."
    )

    @classmethod
    def from_model(cls, row: models.ProductPrice, currency: str) -> PriceVersion:
        return cls(
            effective_from=row.effective_from,
            buy_price=price(row.buy_price, currency),
            rrp=price(row.rrp, currency),
        )


def in_force(rows: Sequence[models.ProductPrice], day: date) -> models.ProductPrice | None:
    found = None
    for row in rows:  # ordered by effective date
        if row.effective_from <= day:
            found = row
    return found


@strawberry.type(description="One SKU of a program's price list.")
class Product(relay.Node):
    id: relay.NodeID[int]
    sku: str = strawberry.field(
        description="The stock-keeping unit, unique in its program; it never changes (the "
        "PSA service is named after it)."
    )
    name: str = strawberry.field(description="The product's name.")
    description: str = strawberry.field(description="What the product is; may be empty.")
    billing_term: BillingTerm = strawberry.field(  # type: ignore[valid-type]
        description="How often it is billed; its prices are per this term."
    )
    kind: ProductKind = strawberry.field(  # type: ignore[valid-type]
        description="Per seat, metered, or charged once."
    )
    retired: bool = strawberry.field(
        description="Off the price list: it cannot be ordered, its subscriptions keep billing."
    )
    program_id: strawberry.Private[int]

    @strawberry.field(description="The program whose price list it is on.")
    async def program(self, info: Info) -> Program:
        row = await info.context.loaders.program_by_id.load(self.program_id)
        assert row is not None  # a foreign key guarantees it
        return Program.from_model(row)

    async def _currency(self, info: Info) -> str:
        row = await info.context.loaders.program_by_id.load(self.program_id)
        assert row is not None
        return row.currency

    @strawberry.field(description="Every price version, oldest first.")
    async def price_history(self, info: Info) -> list[PriceVersion]:
        rows = await info.context.loaders.prices_by_product.load(self.id)
        currency = await self._currency(info)
        return [PriceVersion.from_model(r, currency) for r in rows]

    @strawberry.field(
        description="The prices in force on `on` (default: today in your organisation's "
        "time zone, the day a partner's order without a start date is priced on)."
    )
    async def price(
        self,
        info: Info,
        on: Annotated[
            date | None, strawberry.argument(description="The day to price; today when left out.")
        ] = None,
    ) -> PriceVersion | None:
        from prism_graph.organisations.zones import callers_today

        rows = await info.context.loaders.prices_by_product.load(self.id)
        row = in_force(rows, on or await callers_today(info.context))
        return PriceVersion.from_model(row, await self._currency(info)) if row else None

    @classmethod
    def from_model(cls, row: models.Product) -> Product:
        return cls(
            id=row.id,
            sku=row.sku,
            name=row.name,
            description=row.description,
            billing_term=row.billing_term,
            kind=row.kind,
            retired=row.retired,
            program_id=row.program_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Product | None]:
        return await load_nodes(info.context.loaders.product_by_id, node_ids, cls.from_model)


@strawberry.type(description="A page of products.")
class ProductConnection(Counted, relay.Connection[Product]):
    pass


@strawberry.type(description="A problem with one row (the header is row 1) of an import.")
class RowError:
    row: int = strawberry.field(description="The row's number in the file; the header is 1.")
    column: str | None = strawberry.field(
        description="The column at fault, by its header name; null for the row as a whole."
    )
    code: ErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="Why the row was refused."
    )
    message: str = strawberry.field(description="What is wrong, for people.")


@strawberry.type(description="A product whose prices an import changes.")
class PriceChange:
    sku: str = strawberry.field(description="The product's SKU.")
    old_buy_price: Decimal = strawberry.field(description="The buy price in force until now.")
    old_rrp: Decimal = strawberry.field(description="The RRP in force until now.")
    new_buy_price: Decimal = strawberry.field(description="The buy price from the import's date.")
    new_rrp: Decimal = strawberry.field(description="The RRP from the import's date.")
