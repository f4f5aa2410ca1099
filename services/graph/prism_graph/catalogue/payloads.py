"""The payloads of the catalogue's mutations."""

from __future__ import annotations

import strawberry

from prism_graph.catalogue.types import PriceChange, Product, Program, RowError
from prism_graph.common.errors import UserError, errors_field


@strawberry.type(description="The outcome of a change to a program.")
class ProgramPayload:
    program: Program | None = strawberry.field(
        description="The program as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of a change to a product.")
class ProductPayload:
    product: Product | None = strawberry.field(
        description="The product as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()
    warnings: list[UserError] = strawberry.field(
        default_factory=list,
        description="Accepted, but worth a look: BELOW_COST when the RRP is below the buy price.",
    )


@strawberry.type(description="What an import changes, or would change on a dry run.")
class ImportPriceListPayload:
    applied: bool = strawberry.field(description="False on a dry run or when rows are bad.")
    created: list[str] = strawberry.field(description="SKUs of the new products.")
    price_changes: list[PriceChange] = strawberry.field(
        description="Products whose prices change, from the import's date."
    )
    updated: list[str] = strawberry.field(
        description="SKUs whose name, description, term or kind change."
    )
    retired: list[str] = strawberry.field(description="SKUs taken off the price list.")
    unchanged_count: int = strawberry.field(description="How many rows change nothing.")
    row_errors: list[RowError] = strawberry.field(
        description="Rows refused; with any, nothing is imported unless `allowPartial`."
    )
    warnings: list[RowError] = strawberry.field(
        description="Rows accepted but worth a look (e.g. BELOW_COST)."
    )
    errors: list[UserError] = errors_field()
