"""The inputs of the catalogue's mutations (the distributor's price lists)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry import relay

from prism_graph.catalogue.types import BillingTerm, ProductKind

TODAY = "default today in the distributor's time zone"


@strawberry.input(description="A new program.")
class CreateProgramInput:
    name: str = strawberry.field(description="Its name, unique; at most 100 characters.")
    currency: str = strawberry.field(description="ISO 4217 code of its prices, e.g. AUD.")


@strawberry.input(description="The program to retire.")
class RetireProgramInput:
    id: relay.GlobalID = strawberry.field(description="The program's id.")


@strawberry.input(description="A new product on a program's price list, with its first prices.")
class CreateProductInput:
    program_id: relay.GlobalID = strawberry.field(description="The program (not retired).")
    sku: str = strawberry.field(
        description="Unique in the program (any letter case); letters, digits and . _ : / -, "
        "at most 64 characters. It never changes."
    )
    name: str = strawberry.field(description="At most 255 characters.")
    buy_price: Decimal = strawberry.field(
        description="The partner's cost per unit and billing term, in the program's currency."
    )
    rrp: Decimal = strawberry.field(
        description="Recommended retail price per unit and billing term; below the buy price "
        "it is accepted with a BELOW_COST warning."
    )
    billing_term: BillingTerm = strawberry.field(  # type: ignore[valid-type]
        description="How often it is billed."
    )
    kind: ProductKind = strawberry.field(  # type: ignore[valid-type]
        description="Per seat, metered, or charged once."
    )
    description: str = strawberry.field(default="", description="What it is; empty by default.")
    effective_from: date | None = strawberry.field(
        default=None, description=f"When the first prices apply; {TODAY}."
    )


@strawberry.input(description="What people read about a product; what is left out stays.")
class UpdateProductInput:
    id: relay.GlobalID = strawberry.field(description="The product's id.")
    name: str | None = strawberry.field(
        default=None, description="The new name; null or left out keeps it."
    )
    description: str | None = strawberry.field(
        default=None, description="The new description; null or left out keeps it."
    )


@strawberry.input(description="New prices of a product from a date.")
class ChangeProductPriceInput:
    id: relay.GlobalID = strawberry.field(description="The product's id (not retired).")
    buy_price: Decimal = strawberry.field(description="The new buy price.")
    rrp: Decimal = strawberry.field(description="The new RRP.")
    effective_from: date = strawberry.field(
        description="First day of the new prices; a version on the same day is corrected."
    )


@strawberry.input(description="The product to take off the price list.")
class RetireProductInput:
    id: relay.GlobalID = strawberry.field(description="The product's id.")


@strawberry.input(description="A CSV price list for one program.")
class ImportPriceListInput:
    program_id: relay.GlobalID = strawberry.field(description="The program (not retired).")
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
        default=None, description=f"When new and changed prices apply; {TODAY}."
    )
