"""Usage records imported from a CSV file (P3; docs/catalogue-and-billing.md).

One unit of work: the file is parsed by the domain (`prism_domain.usage`), every row is
resolved against what the caller may see (customers by id or domain, SKUs of the program,
the price in force that day, months already invoiced), and only then, unless it is a dry run
or a row is bad without `allow_partial`, the good rows are written. A record is keyed by
customer, product and day and a row replaces it (an upsert, so two imports at once cannot
fail on the key either): the same file imported twice counts once.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.catalogue import ProductKind
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.uploads import RowError
from prism_domain.usage import UsageImport, UsageLine, parse_usage_csv
from prism_graph.access import visible_customers
from prism_graph.billing.charges import upsert_usage
from prism_graph.billing.locks import lock_billing
from prism_graph.catalogue.rows import prices_of, to_domain
from prism_graph.common.ids import decode_id
from prism_graph.database import Database
from prism_platform.db import utcnow
from prism_tables import billing as models
from prism_tables.catalogue import Product, Program, text_key
from prism_tables.customers import Customer


@dataclass(frozen=True)
class UsageRow:
    """A good row, resolved: what it would store."""

    line: UsageLine
    customer_id: int
    product_id: int
    unit_cost: Decimal
    unit_price: Decimal

    @property
    def key(self) -> tuple[int, int, date]:
        return self.customer_id, self.product_id, self.line.day


@dataclass
class UsageImportReport:
    applied: bool = False
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    row_errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.replaced + self.unchanged


def _customer_pk(reference: str) -> int | None:
    """The primary key of a `Customer` global id, else None (the reference is a domain)."""
    try:
        raw = base64.b64decode(reference, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, node_id = raw.partition(":")
    pk = decode_id(node_id) if type_name == "Customer" else -1
    return pk if pk >= 0 else None


async def _customers(
    session: AsyncSession, scope: Scope | None, lines: tuple[UsageLine, ...]
) -> tuple[dict[int, Customer], dict[str, list[Customer]]]:
    pks = {pk for line in lines if (pk := _customer_pk(line.customer)) is not None}
    domains = {line.customer.strip().lower().rstrip(".") for line in lines}
    rows: Any = (
        await session.scalars(
            select(Customer).where(
                visible_customers(scope), or_(Customer.id.in_(pks), Customer.domain.in_(domains))
            )
        )
        if lines
        else []
    )
    by_pk: dict[int, Customer] = {}
    by_domain: dict[str, list[Customer]] = defaultdict(list)
    for customer in rows:
        by_pk[customer.id] = customer
        if customer.domain:
            by_domain[customer.domain].append(customer)
    return by_pk, by_domain


def _resolve_customer(
    line: UsageLine, by_pk: dict[int, Customer], by_domain: dict[str, list[Customer]]
) -> Customer | RowError:
    pk = _customer_pk(line.customer)
    if pk is not None and pk in by_pk:
        return by_pk[pk]
    named = by_domain.get(line.customer.strip().lower().rstrip("."), [])
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        return RowError(
            line.row,
            "customer",
            ErrorCode.INVALID,
            f"Several customers have the domain {line.customer}; name the customer by its id.",
        )
    return RowError(line.row, "customer", ErrorCode.NOT_FOUND, "No such customer.")


async def _invoiced_periods(
    session: AsyncSession, program_id: int, owners: set[int]
) -> dict[int, list[tuple[date, date]]]:
    periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
    if owners:
        for partner_id, start, end in await session.execute(
            select(
                models.Invoice.partner_id, models.Invoice.period_start, models.Invoice.period_end
            ).where(models.Invoice.program_id == program_id, models.Invoice.partner_id.in_(owners))
        ):
            periods[partner_id].append((start, end))
    return periods


async def _resolve(
    session: AsyncSession, scope: Scope | None, program: Program, parsed: UsageImport
) -> tuple[list[UsageRow], list[RowError]]:
    lines = parsed.lines
    by_pk, by_domain = await _customers(session, scope, lines)
    products = {
        p.sku_key: p
        for p in await session.scalars(
            select(Product).where(
                Product.program_id == program.id,
                Product.sku_key.in_({text_key(line.sku) for line in lines}),
            )
        )
    }
    prices = await prices_of(session, [p.id for p in products.values()])
    catalogue = {p.id: to_domain(p, prices[p.id], program.currency) for p in products.values()}
    owners = {c.owner_id for c in by_pk.values()}
    await lock_billing(session, owners)  # until the import commits
    invoiced = await _invoiced_periods(session, program.id, owners)
    rows: list[UsageRow] = []
    errors: list[RowError] = []
    for line in lines:
        customer = _resolve_customer(line, by_pk, by_domain)
        product = products.get(text_key(line.sku))
        line_errors = [customer] if isinstance(customer, RowError) else []
        if product is None:
            line_errors.append(
                RowError(
                    line.row, "sku", ErrorCode.NOT_FOUND, f"No SKU {line.sku} in {program.name}."
                )
            )
        elif product.kind is not ProductKind.USAGE:
            line_errors.append(
                RowError(line.row, "sku", ErrorCode.INVALID, f"SKU {product.sku} is not metered.")
            )
        if line_errors or isinstance(customer, RowError) or product is None:
            errors.extend(line_errors)
            continue
        version = catalogue[product.id].price_on(line.day)
        if version is None:
            errors.append(
                RowError(
                    line.row,
                    "day",
                    ErrorCode.NOT_FOUND,
                    f"SKU {product.sku} has no price on {line.day}.",
                )
            )
            continue
        if any(start <= line.day <= end for start, end in invoiced.get(customer.owner_id, ())):
            errors.append(
                RowError(
                    line.row,
                    "day",
                    ErrorCode.CONFLICT,
                    f"The month of {line.day} is already invoiced for this program.",
                )
            )
            continue
        rows.append(
            UsageRow(line, customer.id, product.id, version.buy_price.amount, version.rrp.amount)
        )
    return rows, errors


async def import_usage(
    database: Database,
    scope: Scope | None,
    program_id: int,
    *,
    csv_text: str,
    dry_run: bool,
    allow_partial: bool,
) -> UsageImportReport | list[FieldError]:
    """P3: what the file would record (dry run) or records (nothing when a row is bad,
    unless `allow_partial`: then the good rows are recorded and the bad ones reported)."""
    async with database.unit_of_work() as uow:
        session = uow.session
        program = await session.get(Program, program_id)
        if program is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "No such program.")]
        parsed = parse_usage_csv(csv_text)
        rows, errors = await _resolve(session, scope, program, parsed)
        report = UsageImportReport(
            row_errors=sorted([*parsed.errors, *errors], key=lambda e: e.row)
        )
        existing: dict[tuple[int, int, date], models.UsageRecord] = {}
        if rows:
            for record in await session.scalars(
                select(models.UsageRecord).where(
                    models.UsageRecord.customer_id.in_({r.customer_id for r in rows}),
                    models.UsageRecord.product_id.in_({r.product_id for r in rows}),
                    models.UsageRecord.day.in_({r.line.day for r in rows}),
                )
            ):
                existing[(record.customer_id, record.product_id, record.day)] = record
        changed: list[UsageRow] = []
        for row in rows:
            before = existing.get(row.key)
            if before is None:
                report.created += 1
            elif (before.quantity, before.unit_cost, before.unit_price) == (
                row.line.quantity,
                row.unit_cost,
                row.unit_price,
            ):
                report.unchanged += 1
                continue
            else:
                report.replaced += 1
            changed.append(row)
        if dry_run or (report.row_errors and not allow_partial) or not changed:
            return report
        now = utcnow()
        await session.execute(
            upsert_usage(session),
            [
                {
                    "customer_id": row.customer_id,
                    "product_id": row.product_id,
                    "day": row.line.day,
                    "quantity": row.line.quantity,
                    "unit_cost": row.unit_cost,
                    "unit_price": row.unit_price,
                    "recorded_at": now,
                }
                for row in changed
            ],
        )
        await uow.commit()
        report.applied = True
        return report
