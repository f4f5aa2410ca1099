"""What the product sync reads from the API's tables (ADR-7: shared database, read-only).

It reads their tables (`prism_tables`) with SQLAlchemy Core, column by column; money columns
arrive as Decimals on both backends (`ExactDecimal`), never as floats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_domain.money import to_decimal
from prism_psa.products.planning import CatalogueItem
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.catalogue import Product, ProductPrice
from prism_tables.sync.connections import CustomerMapping

products = Product.__table__
product_prices = ProductPrice.__table__
invoices = Invoice.__table__
invoice_lines = InvoiceLine.__table__


def price_list(session: Session, program_id: int, day: date) -> list[CatalogueItem]:
    """Every product of the program with the prices in force on `day` (None: no price yet)."""
    rows = session.execute(
        select(
            products.c.id,
            products.c.sku,
            products.c.name,
            products.c.description,
            products.c.retired,
        )
        .where(products.c.program_id == program_id)
        .order_by(products.c.sku)
    ).all()
    prices: dict[int, tuple[date, Decimal, Decimal]] = {}
    for product_id, effective_from, buy, rrp in session.execute(
        select(
            product_prices.c.product_id,
            product_prices.c.effective_from,
            product_prices.c.buy_price,
            product_prices.c.rrp,
        ).where(
            product_prices.c.product_id.in_(
                select(products.c.id).where(products.c.program_id == program_id)
            )
        )
    ).all():
        start = (
            effective_from
            if isinstance(effective_from, date)
            else date.fromisoformat(str(effective_from))
        )
        if start > day:
            continue
        if product_id not in prices or prices[product_id][0] < start:
            prices[product_id] = (start, to_decimal(buy), to_decimal(rrp))
    return [
        CatalogueItem(
            product_id=int(r.id),
            sku=str(r.sku),
            name=str(r.name),
            description=str(r.description or ""),
            retired=bool(r.retired),
            buy_price=prices[r.id][1] if r.id in prices else None,
            rrp=prices[r.id][2] if r.id in prices else None,
        )
        for r in rows
    ]


def in_use_skus(session: Session, partner_id: int, program_id: int) -> set[str]:
    """S2 IN_USE: SKUs on the partner's invoices of the program, for synced customers."""
    stmt = (
        select(invoice_lines.c.sku)
        .distinct()
        .select_from(invoice_lines.join(invoices, invoices.c.id == invoice_lines.c.invoice_id))
        .where(
            invoices.c.partner_id == partner_id,
            invoices.c.program_id == program_id,
            invoice_lines.c.sku.is_not(None),
        )
    )
    # S4, S9: only customers mapped to a PSA company and contract with sync on count.
    synced = select(CustomerMapping.customer_id).where(
        CustomerMapping.partner_id == partner_id,
        CustomerMapping.program_id == program_id,
        CustomerMapping.sync_enabled.is_(True),
    )
    stmt = stmt.where(invoice_lines.c.customer_id.in_(synced))
    return {str(s).casefold() for s in session.scalars(stmt)}
