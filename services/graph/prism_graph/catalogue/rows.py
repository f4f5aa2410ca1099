"""From stored catalogue rows to the domain (P1): money, price versions, products, price-list
entries, and the price versions of several products in one read.

The catalogue's use cases read through it, and so do the billing run, the charges, the usage
import and the pricing of orders: each sees a stored price as the domain's `Money`, the same
on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.catalogue import PriceListEntry, PriceVersion
from prism_domain.catalogue import Product as DomainProduct
from prism_domain.money import Money, exact_amount
from prism_tables.catalogue import Product, ProductPrice


def money(value: Decimal, currency: str) -> Money:
    """A stored amount, the same on every backend ("8.10", not "8.1" or "8.100000")."""
    return Money(exact_amount(value, currency), currency)


def price_version(row: ProductPrice, currency: str) -> PriceVersion:
    return PriceVersion(
        row.effective_from, money(row.buy_price, currency), money(row.rrp, currency)
    )


def to_domain(product: Product, prices: Sequence[ProductPrice], currency: str) -> DomainProduct:
    return DomainProduct(
        sku=product.sku,
        name=product.name,
        billing_term=product.billing_term,
        kind=product.kind,
        prices=tuple(price_version(p, currency) for p in prices),
        retired=product.retired,
        description=product.description,
    )


def to_entry(product: Product, version: PriceVersion) -> PriceListEntry:
    return PriceListEntry(
        sku=product.sku,
        name=product.name,
        description=product.description,
        buy_price=version.buy_price,
        rrp=version.rrp,
        billing_term=product.billing_term,
        kind=product.kind,
        retired=product.retired,
    )


async def prices_of(
    session: AsyncSession, product_ids: Iterable[int]
) -> dict[int, list[ProductPrice]]:
    """Each product's price versions, oldest first (every id is a key, [] when it has none)."""
    ids = sorted(set(product_ids))
    found: dict[int, list[ProductPrice]] = {i: [] for i in ids}
    if ids:
        rows = await session.scalars(
            select(ProductPrice)
            .where(ProductPrice.product_id.in_(ids))
            .order_by(ProductPrice.product_id, ProductPrice.effective_from)
        )
        for row in rows:
            found[row.product_id].append(row)
    return found
