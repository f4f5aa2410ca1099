from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import Select
from strawberry import relay

from prism_domain.catalogue import BillingTerm as DomainBillingTerm
from prism_domain.catalogue import ProductKind as DomainProductKind
from prism_domain.money import exact_amount
from prism_graph.common.errors import ErrorCode, UserError
from prism_graph.common.nodes import load_nodes
from prism_graph.common.pagination import count_all
from prism_graph.context import Info
from prism_tables import catalogue as models

BillingTerm = strawberry.enum(DomainBillingTerm, name="BillingTerm")
ProductKind = strawberry.enum(
    DomainProductKind,
    name="ProductKind",
    description="LICENCE: per seat per term; USAGE: metered (Azure); ONE_TIME_FEE: once.",
)


def price(value: Decimal, currency: str) -> Decimal:
    return exact_amount(value, currency)


@strawberry.type(description="A vendor program the distributor sells, with its price list.")
class Program(relay.Node):
    id: relay.NodeID[int]
    name: str
    currency: str

    @classmethod
    def from_model(cls, row: models.Program) -> Program:
        return cls(id=row.id, name=row.name, currency=row.currency)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Program | None]:
        return await load_nodes(info.context.loaders.program_by_id, node_ids, cls.from_model)


@strawberry.type(description="Prices in force from `effectiveFrom` until the next version.")
class PriceVersion:
    effective_from: date
    buy_price: Decimal = strawberry.field(description="The partner's cost, per billing term.")
    rrp: Decimal = strawberry.field(description="Recommended retail (sell) price.")

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


@strawberry.type(description="One SKU of a program's price list (P1).")
class Product(relay.Node):
    id: relay.NodeID[int]
    sku: str
    name: str
    description: str
    billing_term: BillingTerm  # type: ignore[valid-type]
    kind: ProductKind  # type: ignore[valid-type]
    retired: bool
    program_id: strawberry.Private[int]

    @strawberry.field
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
    async def price(self, info: Info, on: date | None = None) -> PriceVersion | None:
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
class ProductConnection(relay.Connection[Product]):
    filtered: strawberry.Private[Select[Any]]

    @strawberry.field(description="How many products match the filter, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await count_all(info.context.reader.scalar, self.filtered)


@strawberry.input
class CreateProgramInput:
    name: str
    currency: str = strawberry.field(description="ISO 4217 code of its prices, e.g. AUD.")


@strawberry.type
class ProgramPayload:
    program: Program | None
    errors: list[UserError]


@strawberry.input
class CreateProductInput:
    program_id: relay.GlobalID
    sku: str
    name: str
    buy_price: Decimal
    rrp: Decimal
    billing_term: BillingTerm  # type: ignore[valid-type]
    kind: ProductKind  # type: ignore[valid-type]
    description: str = ""
    effective_from: date | None = strawberry.field(
        default=None,
        description="When the first prices apply; default today in the distributor's time zone.",
    )


@strawberry.input
class UpdateProductInput:
    id: relay.GlobalID
    name: str | None = None
    description: str | None = None


@strawberry.input
class ChangeProductPriceInput:
    id: relay.GlobalID
    buy_price: Decimal
    rrp: Decimal
    effective_from: date = strawberry.field(
        description="First day of the new prices; a version on the same day is corrected."
    )


@strawberry.type
class ProductPayload:
    product: Product | None
    errors: list[UserError]
    warnings: list[UserError] = strawberry.field(
        default_factory=list, description="Accepted, but worth a look (BELOW_COST)."
    )


@strawberry.input
class ImportPriceListInput:
    program_id: relay.GlobalID
    csv: str = strawberry.field(
        description="Header row sku,name,buy_price,rrp,billing_term,kind[,description,retired]."
    )
    dry_run: bool = strawberry.field(
        default=True, description="Only report what would change (the default)."
    )
    allow_partial: bool = strawberry.field(
        default=False,
        description="Import the good rows even when some are bad (they are reported).",
    )
    retire_missing: bool = strawberry.field(
        default=False, description="The file is the whole list: retire SKUs it does not name."
    )
    effective_from: date | None = strawberry.field(
        default=None,
        description="When new and changed prices apply; default today in the distributor's "
        "time zone.",
    )


@strawberry.type(description="A problem with one row (the header is row 1) of an import.")
class RowError:
    row: int
    column: str | None
    code: ErrorCode  # type: ignore[valid-type]
    message: str


@strawberry.type
class PriceChange:
    sku: str
    old_buy_price: Decimal
    old_rrp: Decimal
    new_buy_price: Decimal
    new_rrp: Decimal


@strawberry.type(description="What an import changes, or would change on a dry run.")
class ImportPriceListPayload:
    applied: bool = strawberry.field(description="False on a dry run or when rows are bad.")
    created: list[str]
    price_changes: list[PriceChange]
    updated: list[str]
    retired: list[str]
    unchanged_count: int
    row_errors: list[RowError]
    warnings: list[RowError]
    errors: list[UserError]
