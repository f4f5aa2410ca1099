"""Catalogue queries and mutations: partners read the price lists, the distributor manages
them. Retiring a program is `programs.py`."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import or_, select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.uploads import RowError as DomainRowError
from prism_graph.access import requires, visible_catalogue
from prism_graph.catalogue import programs, service
from prism_graph.catalogue.inputs import (
    ChangeProductPriceInput,
    CreateProductInput,
    CreateProgramInput,
    ImportPriceListInput,
    RetireProductInput,
    RetireProgramInput,
    UpdateProductInput,
)
from prism_graph.catalogue.payloads import ImportPriceListPayload, ProductPayload, ProgramPayload
from prism_graph.catalogue.types import (
    PriceChange,
    Product,
    ProductConnection,
    Program,
    RowError,
    price,
)
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
from prism_tables import catalogue as models


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _visible_product(info: Info, value: relay.GlobalID) -> int:
    """The product a global id names. Anyone who may manage the catalogue sees all of it, so
    no read is needed here; and none must be: the request's read session would then keep a
    snapshot from before the mutation's commit for the payload."""
    return node_pk(value, "Product")


def _product_payload(
    result: tuple[models.Product, list[FieldError]] | models.Product | list[FieldError],
) -> ProductPayload:
    if isinstance(result, list):
        return ProductPayload(product=None, errors=user_errors(result))
    row, warnings = result if isinstance(result, tuple) else (result, [])
    return ProductPayload(
        product=Product.from_model(row), errors=[], warnings=user_errors(warnings)
    )


def _row_errors(rows: tuple[DomainRowError, ...]) -> list[RowError]:
    return [RowError(row=e.row, column=e.column, code=e.code, message=e.message) for e in rows]


@strawberry.type
class CatalogueQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CATALOGUE)],
        description="The programs on the catalogue, by name (retired ones only when asked for).",
    )
    async def programs(
        self,
        info: Info,
        include_retired: Annotated[
            bool, strawberry.argument(description="Also list retired programs.")
        ] = False,
    ) -> list[Program]:
        stmt = select(models.Program).where(visible_catalogue(info.context.scope))
        if not include_retired:
            stmt = stmt.where(models.Program.retired_at.is_(None))
        rows = await info.context.reader.scalars(stmt.order_by(models.Program.name))
        return [Program.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CATALOGUE)],
        description="Products by name, searched by SKU or name, paged by cursor.",
    )
    async def products(
        self,
        info: Info,
        program_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this program's products.")
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only products whose SKU or name contains this text (any letter case).",
            ),
        ] = None,
        include_retired: Annotated[
            bool, strawberry.argument(description="Also list retired products.")
        ] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProductConnection:
        stmt = select(models.Product).where(visible_catalogue(info.context.scope))
        if program_id is not None:
            stmt = stmt.where(models.Product.program_id == node_pk(program_id, "Program"))
        if not include_retired:
            stmt = stmt.where(models.Product.retired.is_(False))
        text = (search or "").strip().casefold()
        if text:
            pattern = like_pattern(text)
            stmt = stmt.where(
                or_(
                    models.Product.sku_key.like(pattern, escape="\\"),
                    models.Product.name_key.like(pattern, escape="\\"),
                )
            )
        key = SortKey((models.Product.name_key, models.Product.id))
        page: Page[models.Product] = await paginate(
            info.context.reader.scalars,
            stmt,
            key,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(ProductConnection, page, Product.from_model, filtered=stmt)

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CATALOGUE)],
        description="One product by id; null when there is none.",
    )
    async def product(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The product's id.")],
    ) -> Product | None:
        pk = node_pk(id, "Product")
        row = await info.context.loaders.product_by_id.load(pk) if pk > 0 else None
        return Product.from_model(row) if row else None


@strawberry.type
class CatalogueMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description="Add a program (e.g. Microsoft CSP) with the currency of its prices.",
    )
    async def create_program(
        self,
        info: Info,
        input: Annotated[CreateProgramInput, strawberry.argument(description="A new program.")],
    ) -> ProgramPayload:
        result = await programs.create_program(
            info.context.database, name=input.name, currency=input.currency
        )
        if isinstance(result, list):
            return ProgramPayload(program=None, errors=user_errors(result))
        return ProgramPayload(program=Program.from_model(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description="Add a product to a program's price list with its first prices.",
    )
    async def create_product(
        self,
        info: Info,
        input: Annotated[
            CreateProductInput,
            strawberry.argument(
                description="A new product on a program's price list, with its first prices."
            ),
        ],
    ) -> ProductPayload:
        result = await service.create_product(
            info.context.database,
            service.NewProduct(
                program_id=node_pk(input.program_id, "Program"),
                sku=input.sku,
                name=input.name,
                description=input.description,
                buy_price=input.buy_price,
                rrp=input.rrp,
                billing_term=input.billing_term,
                kind=input.kind,
                effective_from=input.effective_from,
            ),
        )
        return _product_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description="Change a product's name or description (the SKU never changes).",
    )
    async def update_product(
        self,
        info: Info,
        input: Annotated[
            UpdateProductInput,
            strawberry.argument(
                description="What people read about a product; what is left out stays."
            ),
        ],
    ) -> ProductPayload:
        result = await service.update_product(
            info.context.database,
            await _visible_product(info, input.id),
            name=input.name,
            description=input.description,
        )
        return _product_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description="New prices from a date, kept as a new price version (the PSA sync and "
        "the price-change notices follow).",
    )
    async def change_product_price(
        self,
        info: Info,
        input: Annotated[
            ChangeProductPriceInput,
            strawberry.argument(description="New prices of a product from a date."),
        ],
    ) -> ProductPayload:
        result = await service.change_price(
            info.context.database,
            await _visible_product(info, input.id),
            buy_price=input.buy_price,
            rrp=input.rrp,
            effective_from=input.effective_from,
        )
        return _product_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description="Take a product off the price list: it can no longer be ordered, its "
        "subscriptions keep billing. Retiring a retired product changes nothing.",
    )
    async def retire_product(
        self,
        info: Info,
        input: Annotated[
            RetireProductInput,
            strawberry.argument(description="The product to take off the price list."),
        ],
    ) -> ProductPayload:
        result = await service.retire_product(
            info.context.database, await _visible_product(info, input.id)
        )
        return _product_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description="Retire a program: off the catalogue for new business. Its products are "
        "retired with it (no new orders or subscriptions), no tenant can be added in it and "
        "`programs` lists it only with `includeRetired`; existing subscriptions keep billing "
        "and syncing. One way: there is no un-retiring.",
    )
    async def retire_program(
        self,
        info: Info,
        input: Annotated[
            RetireProgramInput, strawberry.argument(description="The program to retire.")
        ],
    ) -> ProgramPayload:
        result = await programs.retire_program(info.context.database, node_pk(input.id, "Program"))
        if isinstance(result, list):
            return ProgramPayload(program=None, errors=user_errors(result))
        return ProgramPayload(program=Program.from_model(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CATALOGUE)],
        description=(
            "Import a CSV price list: a dry run (the default) reports what would change; "
            "nothing is imported while any row is bad, unless `allowPartial`."
        ),
    )
    async def import_price_list(
        self,
        info: Info,
        input: Annotated[
            ImportPriceListInput,
            strawberry.argument(description="A CSV price list for one program."),
        ],
    ) -> ImportPriceListPayload:
        result = await service.import_price_list(
            info.context.database,
            node_pk(input.program_id, "Program"),
            csv_text=input.csv,
            dry_run=input.dry_run,
            allow_partial=input.allow_partial,
            retire_missing=input.retire_missing,
            effective_from=input.effective_from,
        )
        if isinstance(result, list):
            return ImportPriceListPayload(
                applied=False,
                created=[],
                price_changes=[],
                updated=[],
                retired=[],
                unchanged_count=0,
                row_errors=[],
                warnings=[],
                errors=user_errors(result),
            )
        diff = result.diff
        errors = []
        if result.parsed.errors:
            errors.append(
                FieldError(
                    "csv",
                    ErrorCode.INVALID,
                    f"{len({e.row for e in result.parsed.errors})} row(s) of the file are bad; "
                    + (
                        "the good rows were imported."
                        if result.applied
                        else "nothing was imported (see rowErrors)."
                    ),
                )
            )
        return ImportPriceListPayload(
            applied=result.applied,
            created=[e.sku for e in diff.created],
            price_changes=[
                PriceChange(
                    sku=c.sku,
                    old_buy_price=price(c.before.buy_price.amount, c.before.currency),
                    old_rrp=price(c.before.rrp.amount, c.before.currency),
                    new_buy_price=price(c.after.buy_price.amount, c.after.currency),
                    new_rrp=price(c.after.rrp.amount, c.after.currency),
                )
                for c in diff.price_changed
            ],
            updated=[e.sku for e in diff.updated],
            retired=[e.sku for e in diff.retired],
            unchanged_count=len(diff.unchanged),
            row_errors=_row_errors(result.parsed.errors),
            warnings=_row_errors(result.parsed.warnings),
            errors=user_errors(errors),
        )


__all__ = ["CatalogueMutations", "CatalogueQueries"]
