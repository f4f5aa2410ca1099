"""What the invoice sync reads from the API's tables (ADR-7: shared database, read-only).

Lightweight `table()`/`column()` declarations, as in `products.sources`: the syncer imports
none of the API's models.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from prism_syncer.invoices.planning import InvoiceLine
from prism_syncer.products.models import ProductServiceLink
from prism_syncer.psa.models import CustomerMapping, ProgramSyncSettings

AUTOTASK = "AUTOTASK"

invoices = table(
    "invoices",
    column("id"),
    column("partner_id"),
    column("program_id"),
    column("period_start"),
    column("period_end"),
    column("issued_at"),
)
invoice_lines = table(
    "invoice_lines",
    column("invoice_id"),
    column("position"),
    column("customer_id"),
    column("subscription_id"),
    column("sku"),
    column("kind"),
    column("billing_term"),
    column("period_start"),
    column("period_end"),
    column("quantity"),
    column("unit_cost"),
    column("unit_price"),
    column("amount"),
)
customers = table("customers", column("id"), column("name"))
programs = table("programs", column("id"), column("name"))


@dataclass(frozen=True)
class IssuedInvoice:
    id: int
    partner_id: int
    program_id: int
    period_start: date
    period_end: date


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
    rows = session.execute(stmt.order_by(invoice_lines.c.position)).mappings().all()
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


def settings_of(session: Session, partner_id: int, program_id: int) -> ProgramSyncSettings | None:
    return session.scalar(
        select(ProgramSyncSettings).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )


def mappings(session: Session, partner_id: int, program_id: int) -> dict[int, CustomerMapping]:
    rows = session.scalars(
        select(CustomerMapping).where(
            CustomerMapping.partner_id == partner_id,
            CustomerMapping.program_id == program_id,
            CustomerMapping.psa == AUTOTASK,
        )
    )
    return {m.customer_id: m for m in rows}


def service_ids(session: Session, partner_id: int, program_id: int) -> dict[str, str | None]:
    """SKU (casefolded) -> the PSA service the product sync made or a person mapped (S3), as text."""
    rows = session.execute(
        select(ProductServiceLink.sku, ProductServiceLink.service_id).where(
            ProductServiceLink.partner_id == partner_id,
            ProductServiceLink.program_id == program_id,
            ProductServiceLink.psa == AUTOTASK,
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
