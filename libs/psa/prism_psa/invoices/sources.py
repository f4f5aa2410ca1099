"""What the invoice sync reads from the API's tables (ADR-7: shared database, read-only).

It reads their tables (`prism_tables`) with SQLAlchemy Core, column by column; money columns
arrive as Decimals on both backends (`ExactDecimal`), never as floats.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from prism_domain.catalogue import BillingTerm
from prism_domain.invoicing import LineKind
from prism_domain.sync import PsaKind
from prism_psa.invoices.values import InvoiceLine, IssuedPeriod
from prism_psa.outcomes import ItemOutcome
from prism_tables.billing import Invoice
from prism_tables.billing import InvoiceLine as InvoiceLineRow
from prism_tables.catalogue import Program
from prism_tables.customers import Customer
from prism_tables.sync.connections import CustomerMapping, ProgramSyncSettings
from prism_tables.sync.invoices import InvoiceSyncJob, InvoiceSyncRun
from prism_tables.sync.products import ProductServiceLink

invoices = Invoice.__table__
invoice_lines = InvoiceLineRow.__table__
customers = Customer.__table__
programs = Program.__table__


@dataclass(frozen=True)
class IssuedInvoice:
    id: int
    partner_id: int
    program_id: int
    period_start: date
    period_end: date
    currency: str


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def invoice(session: Session, invoice_id: int) -> IssuedInvoice | None:
    row = session.execute(
        select(
            invoices.c.id,
            invoices.c.partner_id,
            invoices.c.program_id,
            invoices.c.period_start,
            invoices.c.period_end,
            invoices.c.currency,
        ).where(invoices.c.id == invoice_id)
    ).first()
    if row is None:
        return None
    return IssuedInvoice(
        int(row.id),
        int(row.partner_id),
        int(row.program_id),
        _day(row.period_start),
        _day(row.period_end),
        str(row.currency),
    )


def latest_invoice_id(
    session: Session, partner_id: int, program_id: int, customer_id: int | None = None
) -> int | None:
    """The program's latest issued invoice for the partner (with a line of `customer_id`)."""
    stmt = select(invoices.c.id).where(
        invoices.c.partner_id == partner_id, invoices.c.program_id == program_id
    )
    if customer_id is not None:
        stmt = stmt.where(
            invoices.c.id.in_(
                select(invoice_lines.c.invoice_id).where(invoice_lines.c.customer_id == customer_id)
            )
        )
    found = session.scalar(stmt.order_by(invoices.c.period_start.desc(), invoices.c.id.desc()))
    return int(found) if found is not None else None


def invoice_ids_since(session: Session, program_ids: Collection[int], day: date) -> list[int]:
    return [
        int(i)
        for i in session.scalars(
            select(invoices.c.id).where(
                invoices.c.program_id.in_(list(program_ids)), invoices.c.period_start >= day
            )
        )
    ]


def lines_of(session: Session, invoice_id: int, customer_id: int | None) -> list[InvoiceLine]:
    stmt = select(invoice_lines).where(invoice_lines.c.invoice_id == invoice_id)
    if customer_id is not None:
        stmt = stmt.where(invoice_lines.c.customer_id == customer_id)
    return _lines_from_rows(session.execute(stmt.order_by(invoice_lines.c.position)).mappings())


def settings_of(session: Session, partner_id: int, program_id: int) -> ProgramSyncSettings | None:
    return session.scalar(
        select(ProgramSyncSettings).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )


def program_psa(session: Session, partner_id: int, program_id: int) -> PsaKind:
    """The PSA a partner's program syncs to (Autotask until its settings say otherwise)."""
    psa = session.scalar(
        select(ProgramSyncSettings.psa).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )
    return PsaKind(psa) if psa else PsaKind.AUTOTASK


def mappings(session: Session, partner_id: int, program_id: int) -> dict[int, CustomerMapping]:
    """The program's customers mapped in the PSA it syncs to."""
    rows = session.scalars(
        select(CustomerMapping).where(
            CustomerMapping.partner_id == partner_id,
            CustomerMapping.program_id == program_id,
            CustomerMapping.psa == program_psa(session, partner_id, program_id).value,
        )
    )
    return {m.customer_id: m for m in rows}


def service_ids(session: Session, partner_id: int, program_id: int) -> dict[str, str | None]:
    """SKU (casefolded) -> the PSA service the product sync made or a person mapped (S3), as text."""
    rows = session.execute(
        select(ProductServiceLink.sku, ProductServiceLink.service_id).where(
            ProductServiceLink.partner_id == partner_id,
            ProductServiceLink.program_id == program_id,
            ProductServiceLink.psa == program_psa(session, partner_id, program_id).value,
        )
    ).all()
    return {str(sku).casefold(): str(service_id) for sku, service_id in rows}


def customer_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        int(i): str(n)
        for i, n in session.execute(
            select(customers.c.id, customers.c.name).where(customers.c.id.in_(list(ids)))
        ).all()
    }


def program_name(session: Session, program_id: int) -> str:
    name = session.scalar(select(programs.c.name).where(programs.c.id == program_id))
    return str(name) if name is not None else f"program {program_id}"


# -- the desired timeline's sources (S11) ------------------------------------------------------


def _lines_from_rows(rows: Any) -> list[InvoiceLine]:
    return [
        InvoiceLine.from_payload(
            {
                **row,
                "sku": row["sku"] or "",
                "period_start": str(row["period_start"])[:10],
                "period_end": str(row["period_end"])[:10],
            }
        )
        for row in rows
    ]


def issued_periods(
    session: Session,
    partner_id: int,
    program_id: int,
    since: date,
    customer_ids: Collection[int] | None = None,
) -> list[IssuedPeriod]:
    """Every issued invoice of the partner and program that ends on or after `since`, with
    its lines (of `customer_ids` only, when given), in period order: two queries."""
    heads = session.execute(
        select(invoices.c.id, invoices.c.period_start, invoices.c.period_end)
        .where(
            invoices.c.partner_id == partner_id,
            invoices.c.program_id == program_id,
            invoices.c.period_end >= since,
        )
        .order_by(invoices.c.period_start, invoices.c.id)
    ).all()
    if not heads:
        return []
    stmt = select(invoice_lines).where(invoice_lines.c.invoice_id.in_([h.id for h in heads]))
    if customer_ids is not None:
        stmt = stmt.where(invoice_lines.c.customer_id.in_(list(customer_ids)))
    rows = session.execute(stmt.order_by(invoice_lines.c.position)).mappings().all()
    by_invoice: dict[int, list[Any]] = {}
    for row in rows:
        by_invoice.setdefault(int(row["invoice_id"]), []).append(row)
    return [
        IssuedPeriod(
            int(h.id),
            _day(h.period_start),
            _day(h.period_end),
            tuple(_lines_from_rows(by_invoice.get(int(h.id), []))),
        )
        for h in heads
    ]


def billed_products(
    session: Session, partner_id: int, program_id: int, customer_ids: Collection[int]
) -> dict[int, dict[str, LineKind]]:
    """Per customer, every product Prism has billed it in the program as a monthly licence
    or as usage: the products whose contract services Prism manages (S3, S11)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(invoice_lines.c.customer_id, invoice_lines.c.sku, invoice_lines.c.kind)
        .distinct()
        .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
        .where(
            invoices.c.partner_id == partner_id,
            invoices.c.program_id == program_id,
            invoice_lines.c.customer_id.in_(list(customer_ids)),
            invoice_lines.c.sku.is_not(None),
            or_(
                and_(
                    invoice_lines.c.kind == LineKind.SUBSCRIPTION.value,
                    or_(
                        invoice_lines.c.billing_term.is_(None),
                        invoice_lines.c.billing_term == BillingTerm.MONTHLY.value,
                    ),
                ),
                invoice_lines.c.kind == LineKind.USAGE.value,
            ),
        )
    ).all()
    out: dict[int, dict[str, LineKind]] = {}
    for customer_id, sku, kind in rows:
        out.setdefault(int(customer_id), {})[str(sku)] = LineKind(kind)
    return out


def first_synced_days(
    session: Session, partner_id: int, contract_ids: Collection[int]
) -> dict[tuple[int, int], date]:
    """Per contract service of those contracts, the first day an earlier run synced it
    (a job that ended synced or unchanged): where its reconciliation starts."""
    if not contract_ids:
        return {}
    first = func.min(func.coalesce(InvoiceSyncJob.check_from, invoices.c.period_start))
    rows = session.execute(
        select(InvoiceSyncJob.contract_id, InvoiceSyncJob.service_id, first)
        .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncJob.run_id)
        .join(invoices, invoices.c.id == InvoiceSyncRun.invoice_id)
        .where(
            InvoiceSyncJob.partner_id == partner_id,
            InvoiceSyncJob.contract_id.in_(list(contract_ids)),
            InvoiceSyncJob.outcome.in_([ItemOutcome.SUCCESS, ItemOutcome.NO_CHANGE]),
        )
        .group_by(InvoiceSyncJob.contract_id, InvoiceSyncJob.service_id)
    ).all()
    return {(int(c), int(s)): _day(d) for c, s, d in rows if d is not None}
