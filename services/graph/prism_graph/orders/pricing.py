"""From stored rows to the domain's order rules (O3, O4): price lines, translate field names.

A line is priced from the program price list's version in force on the order's start date
(while no start date is set: today, in the zone of the partner that orders): the buy price is
the partner's contracted price, the RRP the customer's. Once an order is submitted, each line
keeps both unit prices it was priced at, so the order, the addendum and the mails keep showing
what was agreed even after the price list changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.catalogue import PriceListEntry
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.orders import OrderLine as DomainLine
from prism_domain.orders import OrderQuote, PriceBasis, price_order
from prism_graph.catalogue.rows import money, prices_of
from prism_graph.catalogue.types import in_force
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.orders import Order, OrderLine


@dataclass(frozen=True)
class PricedOrder:
    lines: list[DomainLine]
    currency: str | None
    errors: list[FieldError]
    rows: list[OrderLine]  # the stored lines that could be priced, aligned with `lines`

    def quote(self, order: Order, basis: PriceBasis = PriceBasis.PARTNER_COST) -> OrderQuote | None:
        """The quote, when the order has what pricing needs (no errors, lines, start, users)."""
        if self.errors or self.currency is None or not self.lines:
            return None
        users = order.permitted_users
        if users is None or order.start_date is None:
            return None
        return price_order(
            lines=self.lines,
            start_date=order.start_date,
            permitted_users=users,
            currency=self.currency,
            basis=basis,
        )


def pricing_day(order: Order, today: date) -> date:
    """The day an order is priced on: its start date, else `today` in the zone of the
    partner ordering."""
    return order.start_date or today


def price_lines(
    order: Order,
    lines: Sequence[OrderLine],
    products: Mapping[int, Product],
    prices: Mapping[int, Sequence[ProductPrice]],
    programs: Mapping[int, Program],
    *,
    on: date,
) -> PricedOrder:
    """The domain's order lines with the contracted prices in force `on` (`pricing_day`); a
    line without a price in force on the day is an error on that line."""
    day = on
    result: list[DomainLine] = []
    priced_rows: list[OrderLine] = []
    errors: list[FieldError] = []
    currency: str | None = order.currency
    for index, line in enumerate(sorted(lines, key=lambda item: item.position)):
        product = products.get(line.product_id)
        if product is None:
            errors.append(
                FieldError(f"lines[{index}].productId", ErrorCode.NOT_FOUND, "No such product.")
            )
            continue
        line_currency = programs[product.program_id].currency
        currency = currency or line_currency
        version = in_force(prices.get(product.id, ()), day)
        if version is None:
            errors.append(
                FieldError(
                    f"lines[{index}].productId",
                    ErrorCode.NOT_FOUND,
                    f"{product.sku} has no price in force on {day}.",
                )
            )
            continue
        buy = line.unit_price if line.unit_price is not None else version.buy_price
        rrp = line.retail_unit_price if line.retail_unit_price is not None else version.rrp
        entry = PriceListEntry(
            sku=product.sku,
            name=product.name,
            description=product.description,
            buy_price=money(buy, line_currency),
            rrp=money(rrp, line_currency),
            billing_term=product.billing_term,
            kind=product.kind,
            # A submitted order keeps its lines even if a product is retired later.
            retired=product.retired and order.submitted_at is None,
        )
        result.append(DomainLine(product=entry, quantity=line.quantity))
        priced_rows.append(line)
    return PricedOrder(lines=result, currency=currency, errors=errors, rows=priced_rows)


async def price_stored(
    session: AsyncSession, order: Order, lines: Sequence[OrderLine], today: date
) -> PricedOrder:
    """`price_lines` for the use cases: the products, prices and programs read in `session`
    (the API's types read the same through their loaders)."""
    ids = sorted({line.product_id for line in lines})
    products = {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))}
    prices = await prices_of(session, ids)
    program_ids = {p.program_id for p in products.values()}
    programs = {
        p.id: p for p in await session.scalars(select(Program).where(Program.id.in_(program_ids)))
    }
    return price_lines(order, lines, products, prices, programs, on=pricing_day(order, today))


_FIELDS = {
    "permitted_users": "permittedUsers",
    "order_number": "orderNumber",
    "msa_acknowledged": "msaAcknowledged",
    "authorised_acknowledged": "authorisedAcknowledged",
    "start_date": "startDate",
}


def api_field(error: FieldError) -> FieldError:
    """The domain's field names as the API's input names (`lines[0].sku` -> `.productId`)."""
    field = error.field or ""
    if field.startswith("lines[") and field.endswith(".sku"):
        field = field.removesuffix(".sku") + ".productId"
    return FieldError(_FIELDS.get(field, field) or None, error.code, error.message)
