"""The monthly billing run (P3): one invoice per partner and program for a calendar month.

`run_billing` bills in arrears. Each invoice is its own transaction: the invoice and its lines,
`invoice.issued` in the outbox and the mails to the partner's BILLING contacts (C5) commit
together or not at all. The invoice key (partner, program, month) is unique, so a re-run, or
two runs at once, issue nothing twice: the second finds the key taken (or loses the insert
race) and skips it. Direct customers of the distributor are not invoiced: there is no partner
to bill. What the run bills besides subscriptions (usage, one-time fees, adjustments) is
recorded by `billing.charges`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, insert, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.invoicing import (
    Adjustment,
    LineKind,
    OneTimeCharge,
    UsageRecord,
    build_invoice,
)
from prism_domain.money import Money
from prism_domain.organisations import OrganisationKind
from prism_domain.periods import Period
from prism_domain.subscriptions import QuantityChange
from prism_domain.subscriptions import Subscription as DomainSubscription
from prism_graph.billing import files
from prism_graph.billing.locks import lock_billing
from prism_graph.billing.notify import notify_invoice_issued
from prism_graph.catalogue.rows import money, prices_of, to_domain
from prism_graph.database import Database, UnitOfWork
from prism_tables import billing as models
from prism_tables.catalogue import Product, Program
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription, SubscriptionQuantity

_LINES = cast(Table, models.InvoiceLine.__table__)


@dataclass
class ProgramData:
    """Everything a partner's invoice of a program for one month is built from."""

    program: Program
    products: dict[str, object] = field(default_factory=dict)
    subscriptions: dict[int, list[DomainSubscription]] = field(
        default_factory=lambda: defaultdict(list)
    )
    usage: dict[int, list[UsageRecord]] = field(default_factory=lambda: defaultdict(list))
    one_time: dict[int, list[OneTimeCharge]] = field(default_factory=lambda: defaultdict(list))
    adjustments: dict[int, list[Adjustment]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Catalogue:
    """A program's products by id and, with their price versions, by SKU."""

    by_id: dict[int, Product]
    by_sku: dict[str, object]


async def _catalogue(session: AsyncSession, program: Program) -> Catalogue:
    products = list(await session.scalars(select(Product).where(Product.program_id == program.id)))
    prices = await prices_of(session, [p.id for p in products])
    return Catalogue(
        by_id={p.id: p for p in products},
        by_sku={p.sku: to_domain(p, prices[p.id], program.currency) for p in products},
    )


def _subscriptions_billed(program_id: int, period: Period) -> ColumnElement[bool]:
    """Subscriptions of the program alive at some point of `period`."""
    return and_(
        Product.program_id == program_id,
        Subscription.start_date <= period.end,
        or_(Subscription.cancelled_from.is_(None), Subscription.cancelled_from >= period.start),
    )


async def _partners_to_bill(session: AsyncSession, program: Program, period: Period) -> list[int]:
    """The partners with something to bill in the program's `period`: a subscription, usage
    or a charge of one of their customers."""
    owners = union(
        select(Customer.owner_id)
        .join(Subscription, Subscription.customer_id == Customer.id)
        .join(Product, Product.id == Subscription.product_id)
        .where(_subscriptions_billed(program.id, period)),
        select(Customer.owner_id)
        .join(models.UsageRecord, models.UsageRecord.customer_id == Customer.id)
        .join(Product, Product.id == models.UsageRecord.product_id)
        .where(
            Product.program_id == program.id,
            models.UsageRecord.day.between(period.start, period.end),
        ),
        select(Customer.owner_id)
        .join(models.Charge, models.Charge.customer_id == Customer.id)
        .where(
            models.Charge.program_id == program.id,
            models.Charge.day.between(period.start, period.end),
        ),
    ).subquery()
    partners = await session.scalars(
        select(Organisation.id)
        .where(Organisation.id.in_(select(owners.c.owner_id)))
        .where(Organisation.kind == OrganisationKind.PARTNER)
        .order_by(Organisation.id)
    )
    return list(partners)


async def _load_partner(
    session: AsyncSession, program: Program, catalogue: Catalogue, period: Period, partner_id: int
) -> ProgramData:
    """What one partner's invoice of the program for `period` is built from."""
    data = ProgramData(program, products=catalogue.by_sku)
    currency = program.currency
    by_id = catalogue.by_id
    customers = select(Customer.id).where(Customer.owner_id == partner_id)

    # Plain rows of the columns a bill needs, not ORM objects: a partner has thousands of
    # subscriptions, and identity-mapped objects cost more than the bill built from them.
    billed = (
        select(Subscription.id)
        .join(Product, Product.id == Subscription.product_id)
        .where(_subscriptions_billed(program.id, period), Subscription.customer_id.in_(customers))
    )
    # On the session's connection (Core): no ORM processing of thousands of rows. The
    # history is selected by the same condition, not by a list of thousands of ids.
    connection = await session.connection()
    subs = (
        await connection.execute(
            billed.with_only_columns(
                Subscription.id,
                Subscription.customer_id,
                Subscription.sku,
                Subscription.billing_term,
                Subscription.start_date,
                Subscription.cancelled_from,
            )
        )
    ).all()
    history: dict[int, list[QuantityChange]] = defaultdict(list)
    if subs:
        for subscription_id, effective_from, quantity, sequence in await connection.execute(
            select(
                SubscriptionQuantity.subscription_id,
                SubscriptionQuantity.effective_from,
                SubscriptionQuantity.quantity,
                SubscriptionQuantity.sequence,
            )
            .where(SubscriptionQuantity.subscription_id.in_(billed))
            .order_by(SubscriptionQuantity.effective_from, SubscriptionQuantity.sequence)
        ):
            history[subscription_id].append(QuantityChange(effective_from, quantity, sequence))
    data.subscriptions[partner_id] = [
        DomainSubscription(
            id=sub_id,
            customer_id=customer_id,
            sku=sku,
            billing_term=billing_term,
            start=start,
            history=tuple(history[sub_id]),
            cancelled_from=cancelled_from,
        )
        for sub_id, customer_id, sku, billing_term, start, cancelled_from in subs
    ]

    data.usage[partner_id] = [
        UsageRecord(
            customer_id=record.customer_id,
            sku=by_id[record.product_id].sku,
            day=record.day,
            quantity=record.quantity,
            unit_cost=money(record.unit_cost, currency),
            unit_price=money(record.unit_price, currency),
        )
        for record in await session.scalars(
            select(models.UsageRecord).where(
                models.UsageRecord.product_id.in_(list(by_id)),
                models.UsageRecord.customer_id.in_(customers),
                models.UsageRecord.day.between(period.start, period.end),
            )
        )
    ]
    for charge in await session.scalars(
        select(models.Charge).where(
            models.Charge.program_id == program.id,
            models.Charge.customer_id.in_(customers),
            models.Charge.day.between(period.start, period.end),
        )
    ):
        if charge.kind is LineKind.ADJUSTMENT:
            data.adjustments[partner_id].append(
                Adjustment(
                    customer_id=charge.customer_id,
                    day=charge.day,
                    amount=Money(charge.unit_cost, currency),
                    description=charge.description,
                    sku=charge.sku,
                )
            )
        else:
            data.one_time[partner_id].append(
                OneTimeCharge(
                    customer_id=charge.customer_id,
                    sku=charge.sku or "",
                    day=charge.day,
                    quantity=charge.quantity,
                    unit_cost=money(charge.unit_cost, currency),
                    unit_price=money(charge.unit_price, currency),
                )
            )
    return data


@dataclass
class BillingRun:
    issued: list[models.Invoice] = field(default_factory=list)
    already_issued: int = 0
    errors: list[FieldError] = field(default_factory=list)


async def run_billing(database: Database, period: Period) -> BillingRun:
    """P3: issue every invoice of the month that is not issued yet."""
    result = BillingRun()
    reader = database.reader()
    try:
        programs = list(await reader.session.scalars(select(Program).order_by(Program.id)))
        work = [
            (program, await _catalogue(reader.session, program), partner_id)
            for program in programs
            for partner_id in await _partners_to_bill(reader.session, program, period)
        ]
    finally:
        await reader.close()
    for program, catalogue, partner_id in work:
        await _issue(database, program, catalogue, partner_id, period, result)
    return result


async def _issue(
    database: Database,
    program: Program,
    catalogue: Catalogue,
    partner_id: int,
    period: Period,
    result: BillingRun,
) -> None:
    """One partner's invoice of the program, read and written under the billing lock."""
    async with database.unit_of_work() as uow:
        session = uow.session
        await lock_billing(session, [partner_id])
        data = await _load_partner(session, program, catalogue, period, partner_id)
        await _write_invoice(uow, data, partner_id, period, result)


async def _write_invoice(
    uow: UnitOfWork, data: ProgramData, partner_id: int, period: Period, result: BillingRun
) -> None:
    program = data.program
    try:
        invoice = build_invoice(
            invoice_id=0,
            partner_id=partner_id,
            program_id=program.id,
            period=period,
            currency=program.currency,
            subscriptions=data.subscriptions.get(partner_id, ()),
            products=data.products,  # type: ignore[arg-type]
            usage=data.usage.get(partner_id, ()),
            one_time=data.one_time.get(partner_id, ()),
            adjustments=data.adjustments.get(partner_id, ()),
        )
    except DomainValidationError as exc:
        result.errors.extend(
            FieldError("month", e.code, f"{program.name}, partner {partner_id}: {e.message}")
            for e in exc.errors
        )
        return
    if not invoice.lines:
        return
    session = uow.session
    taken = await session.scalar(select(models.Invoice.id).where(models.Invoice.key == invoice.key))
    if taken is not None:
        result.already_issued += 1
        return
    row = models.Invoice(
        key=invoice.key,
        partner_id=partner_id,
        program_id=program.id,
        period_start=period.start,
        period_end=period.end,
        currency=program.currency,
        total=invoice.total.amount,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        result.already_issued += 1  # a concurrent run issued it first
        return
    issued = replace(invoice, id=row.id)
    await _write_lines(
        await session.connection(),
        [
            {
                "invoice_id": row.id,
                "position": position,
                "customer_id": line.customer_id,
                "subscription_id": line.subscription_id,
                "sku": line.sku,
                "kind": line.kind,
                "billing_term": line.billing_term,
                "period_start": line.period.start,
                "period_end": line.period.end,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost.amount,
                "unit_price": line.unit_price.amount,
                "amount": line.amount.amount,
                "description": line.description,
            }
            for position, line in enumerate(issued.lines, start=1)
        ],
    )
    uow.record(issued.issued_event())
    await session.flush()
    # The PDF is drawn from the rows as the database now holds them, as `Invoice.pdf` will
    # draw it later: the mailed copy and the API's are the same bytes.
    lines, names = await files.read_back(session, row)
    await notify_invoice_issued(
        session,
        issued,
        number=files.number(row),
        program_name=program.name,
        pdf=files.invoice_pdf(row, lines, names),
        due_date=files.due_date(row),
    )
    await uow.commit()
    result.issued.append(row)


async def _write_lines(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """An invoice's lines, in the invoice's transaction, as plain rows: thousands of ORM
    objects (or the ORM's bulk insert, which checks every row again) cost more than writing
    them. On PostgreSQL one COPY of the rows, each value bound as an INSERT would bind it
    (the same column types); elsewhere one executemany."""
    if not rows:
        return
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        await connection.execute(insert(_LINES), rows)
        return
    names = list(rows[0])
    bind = [(name, _LINES.c[name].type.bind_processor(connection.dialect)) for name in names]
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    copy_lines = f"COPY {_LINES.name} ({', '.join(names)}) FROM STDIN"
    # The same prices and quantities repeat over thousands of lines: each distinct amount
    # (a finite Decimal: equal ones bind alike) or enum member is bound once per column.
    bound: dict[tuple[str, object], Any] = {}

    def value(name: str, process: Callable[[Any], Any] | None, raw: Any) -> Any:
        if process is None:
            return raw
        if not (isinstance(raw, Enum) or (type(raw) is Decimal and raw.is_finite())):
            return process(raw)
        if (key := (name, raw)) not in bound:
            bound[key] = process(raw)
        return bound[key]

    async with driver.cursor() as cursor, cursor.copy(copy_lines) as copy:
        for values in rows:
            await copy.write_row([value(name, process, values[name]) for name, process in bind])


def billable_period(month: str, today: date) -> Period | FieldError:
    """A calendar month that is over (billing is in arrears) on `today`, the date in the
    distributor's time zone: in Sydney October can be billed from Sydney's midnight, not
    from UTC's, eleven hours later."""
    try:
        period = Period.parse_month(month)
    except ValueError:
        return FieldError("month", ErrorCode.INVALID, "Give the month as YYYY-MM, e.g. 2026-10.")
    if period.end >= today:
        when = f"; bill it from {period.end_exclusive}" if period.end < date.max else ""
        return FieldError(
            "month", ErrorCode.OUT_OF_RANGE, f"{month.strip()} is not over yet{when}."
        )
    return period
