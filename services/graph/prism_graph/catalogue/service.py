"""Use cases on the catalogue (P1): validate with the domain, write, record events, commit.

Every price change is a new `ProductPrice` version and records `product.price_changed` in the
same unit of work, so the PSA sync (S3, S8) learns of it through the outbox. How stored
products and prices read as the domain's is `catalogue.rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from prism_domain.catalogue import (
    NAME_MAX_LENGTH,
    BillingTerm,
    PriceListDiff,
    PriceListEntry,
    PriceVersion,
    ProductKind,
    diff_price_list,
    price_changed,
)
from prism_domain.catalogue import Product as DomainProduct
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.money import parse_amount
from prism_domain.price_list_csv import PriceListImport, parse_price_list_csv
from prism_domain.text import clean_name
from prism_domain.uploads import RowError
from prism_graph.catalogue.programs import retired_program
from prism_graph.catalogue.rows import money, prices_of, to_domain, to_entry
from prism_graph.database import Database, UnitOfWork
from prism_graph.organisations import zones
from prism_tables.catalogue import Product, ProductPrice, Program, text_key


def _not_found(field: str = "id") -> list[FieldError]:
    return [FieldError(field, ErrorCode.NOT_FOUND, "No such product.")]


# --- products -----------------------------------------------------------------------------


async def _add_product(
    uow: UnitOfWork, program: Program, entry: PriceListEntry, effective_from: date
) -> Product:
    product = Product(
        program_id=program.id,
        sku=entry.sku,
        sku_key=text_key(entry.sku),
        name=entry.name,
        name_key=text_key(entry.name),
        description=entry.description,
        billing_term=entry.billing_term,
        kind=entry.kind,
        retired=entry.retired,
    )
    uow.session.add(product)
    await uow.session.flush()
    version = PriceVersion(
        effective_from,
        money(entry.buy_price.amount, program.currency),
        money(entry.rrp.amount, program.currency),
    )
    uow.session.add(
        ProductPrice(
            product_id=product.id,
            effective_from=effective_from,
            buy_price=entry.buy_price.amount,
            rrp=entry.rrp.amount,
        )
    )
    event = price_changed(
        product_id=product.id, program_id=program.id, sku=product.sku, before=None, after=version
    )
    if event is not None:
        uow.record(event)
    return product


@dataclass(frozen=True)
class NewProduct:
    program_id: int
    sku: str | None
    name: str | None
    description: str | None
    buy_price: Decimal | None
    rrp: Decimal | None
    billing_term: BillingTerm | None
    kind: ProductKind | None
    effective_from: date | None


async def create_product(
    database: Database, new: NewProduct
) -> tuple[Product, list[FieldError]] | list[FieldError]:
    """A product with its first price version; returns it with warnings (BELOW_COST)."""
    async with database.unit_of_work() as uow:
        program = await uow.session.get(Program, new.program_id)
        if program is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "No such program.")]
        if program.retired_at is not None:
            return [retired_program(program)]
        try:
            entry = PriceListEntry.parse(
                sku=new.sku,
                name=new.name,
                description=new.description,
                buy_price=new.buy_price,
                rrp=new.rrp,
                billing_term=new.billing_term,
                kind=new.kind,
                currency=program.currency,
            )
        except DomainValidationError as exc:
            return [_camel(e) for e in exc.errors]
        taken = await uow.session.scalar(
            select(Product.id).where(
                Product.program_id == program.id, Product.sku_key == text_key(entry.sku)
            )
        )
        if taken is not None:
            return [_duplicate_sku(entry.sku)]
        try:
            # The distributor's price list: "today" is the distributor's.
            day = new.effective_from or await zones.today_for(uow.session.scalar, None)
            product = await _add_product(uow, program, entry, day)
        except IntegrityError:
            return [_duplicate_sku(entry.sku)]
        await uow.commit()
        return product, [_camel(w) for w in entry.warnings()]


def _duplicate_sku(sku: str) -> FieldError:
    return FieldError("sku", ErrorCode.DUPLICATE, f"SKU {sku} is already on this price list.")


_CAMEL = {"buy_price": "buyPrice", "billing_term": "billingTerm"}


def _camel(error: FieldError) -> FieldError:
    return FieldError(_CAMEL.get(error.field or "", error.field), error.code, error.message)


async def update_product(
    database: Database, product_id: int, *, name: str | None, description: str | None
) -> Product | list[FieldError]:
    """Change what people read (name, description); SKU, term and kind stay (S3)."""
    errors: list[FieldError] = []
    clean = None
    if name is not None:
        clean = clean_name(
            name, field="name", label="Name", max_length=NAME_MAX_LENGTH, errors=errors
        )
    if errors:
        return errors
    async with database.unit_of_work() as uow:
        product = await uow.session.get(Product, product_id)
        if product is None:
            return _not_found()
        if clean is not None:
            product.name, product.name_key = clean, text_key(clean)
        if description is not None:
            product.description = description.strip()
        await uow.commit()
        return product


async def change_price(
    database: Database,
    product_id: int,
    *,
    buy_price: Decimal | None,
    rrp: Decimal | None,
    effective_from: date,
) -> tuple[Product, list[FieldError]] | list[FieldError]:
    """P1: a new price version from `effective_from` (the same date corrects that version)."""
    errors: list[FieldError] = []
    buy = parse_amount(_text(buy_price), field="buyPrice", label="Buy price", errors=errors)
    sell = parse_amount(_text(rrp), field="rrp", label="RRP", errors=errors)
    if errors or buy is None or sell is None:
        return errors
    async with database.unit_of_work() as uow:
        product = await uow.session.get(Product, product_id)
        if product is None:
            return _not_found()
        if product.retired:
            return [FieldError("id", ErrorCode.RETIRED, f"SKU {product.sku} is retired.")]
        program = await uow.session.get(Program, product.program_id)
        assert program is not None  # a foreign key guarantees it
        rows = (await prices_of(uow.session, [product.id]))[product.id]
        current = to_domain(product, rows, program.currency)
        after = PriceVersion(
            effective_from, money(buy, program.currency), money(sell, program.currency)
        )
        await _write_version(uow, program, product, current, rows, after)
        await uow.commit()
        entry = to_entry(product, after)
        return product, [_camel(w) for w in entry.warnings()]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


async def _write_version(
    uow: UnitOfWork,
    program: Program,
    product: Product,
    current: DomainProduct,
    rows: Sequence[ProductPrice],
    after: PriceVersion,
) -> None:
    """Insert (or correct, on the same date) a version; record the event when prices move."""
    before = current.price_on(after.effective_from)
    same_day = next((r for r in rows if r.effective_from == after.effective_from), None)
    if same_day is not None:
        # A correction: compare with the version in force before the corrected one.
        if (same_day.buy_price, same_day.rrp) == (after.buy_price.amount, after.rrp.amount):
            return
        before = current.price_on(after.effective_from - timedelta(days=1))
        same_day.buy_price, same_day.rrp = after.buy_price.amount, after.rrp.amount
    else:
        if before is not None and (before.buy_price, before.rrp) == (after.buy_price, after.rrp):
            return
        uow.session.add(
            ProductPrice(
                product_id=product.id,
                effective_from=after.effective_from,
                buy_price=after.buy_price.amount,
                rrp=after.rrp.amount,
            )
        )
    event = price_changed(
        product_id=product.id, program_id=program.id, sku=product.sku, before=before, after=after
    )
    if event is not None:
        uow.record(event)
    product.updated_at = datetime.now(UTC)


async def retire_product(database: Database, product_id: int) -> Product | list[FieldError]:
    """P1, S3: off the price list for new subscriptions; existing ones keep billing."""
    async with database.unit_of_work() as uow:
        product = await uow.session.get(Product, product_id)
        if product is None:
            return _not_found()
        product.retired = True
        await uow.commit()
        return product


# --- CSV import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    parsed: PriceListImport
    diff: PriceListDiff
    applied: bool


async def import_price_list(
    database: Database,
    program_id: int,
    *,
    csv_text: str,
    dry_run: bool,
    allow_partial: bool,
    retire_missing: bool,
    effective_from: date | None,
) -> ImportReport | list[FieldError]:
    """P1: what the file would change (dry run) or changes (nothing when a row is bad,
    unless `allow_partial`: then the good rows are imported and the bad ones reported)."""
    async with database.unit_of_work() as uow:
        day = effective_from or await zones.today_for(uow.session.scalar, None)
        program = await uow.session.get(Program, program_id)
        if program is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "No such program.")]
        if program.retired_at is not None:
            return [retired_program(program)]
        parsed = parse_price_list_csv(csv_text, currency=program.currency)
        products = list(
            await uow.session.scalars(select(Product).where(Product.program_id == program.id))
        )
        prices = await prices_of(uow.session, [p.id for p in products])
        by_key: dict[str, tuple[Product, DomainProduct]] = {}
        current: list[PriceListEntry] = []
        for product in products:
            domain = to_domain(product, prices[product.id], program.currency)
            by_key[product.sku_key] = (product, domain)
            version = domain.price_on(day) or (domain.prices[0] if domain.prices else None)
            if version is not None:
                current.append(to_entry(product, version))
        # A partial file must never retire what its bad rows might have named.
        retire = retire_missing and parsed.ok
        diff = diff_price_list(current, parsed.entries, retire_missing=retire)
        if dry_run or not diff.has_changes or (parsed.errors and not allow_partial):
            return ImportReport(parsed, diff, applied=False)
        for entry in diff.created:
            await _add_product(uow, program, entry, day)
        for change in diff.price_changed:
            product, domain = by_key[text_key(change.sku)]
            _apply_details(product, change.after)
            await _write_version(
                uow,
                program,
                product,
                domain,
                prices[product.id],
                PriceVersion(day, change.after.buy_price, change.after.rrp),
            )
        for entry in (*diff.updated, *diff.retired):
            product, _ = by_key[text_key(entry.sku)]
            _apply_details(product, entry)
        await uow.commit()
        return ImportReport(parsed, diff, applied=True)


def _apply_details(product: Product, entry: PriceListEntry) -> None:
    product.name, product.name_key = entry.name, text_key(entry.name)
    product.description = entry.description
    product.billing_term = entry.billing_term
    product.kind = entry.kind
    product.retired = entry.retired


__all__ = ["ImportReport", "NewProduct", "RowError"]
