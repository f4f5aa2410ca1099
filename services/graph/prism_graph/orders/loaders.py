"""The orders' DataLoaders (O2-O6): orders and their lines, customer attachments (their
content only when asked for) and the RFI of an order."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_graph import access
from prism_graph.common.loaders import (
    RequestLoaders,
    by_id_loader,
    by_key_loader,
    grouped_loader,
)
from prism_graph.database import RequestReader
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.orders import CustomerAttachment, Order, OrderLine, RfiRequest


class OrderLoaders(RequestLoaders):
    @functools.cached_property
    def order_by_id(self) -> DataLoader[int, Order | None]:
        return by_id_loader(self.reader, Order, access.visible_orders, self.scope)

    @functools.cached_property
    def orders_by_customer(self) -> DataLoader[int, list[Order]]:
        return grouped_loader(
            self.reader,
            Order,
            Order.customer_id,
            access.visible_orders(self.scope),
            (Order.created_at.desc(), Order.id.desc()),
        )

    @functools.cached_property
    def lines_by_order(self) -> DataLoader[int, list[OrderLine]]:
        return grouped_loader(
            self.reader,
            OrderLine,
            OrderLine.order_id,
            OrderLine.order_id.in_(select(Order.id).where(access.visible_orders(self.scope))),
            (OrderLine.position,),
        )

    # What prices the visible orders: the catalogue for staff, the ordered products for a
    # customer's contact (read to price its orders, never exposed to it).
    @functools.cached_property
    def ordered_product_by_id(self) -> DataLoader[int, Product | None]:
        return by_id_loader(self.reader, Product, access.visible_ordered_products, self.scope)

    @functools.cached_property
    def ordered_prices_by_product(self) -> DataLoader[int, list[ProductPrice]]:
        return grouped_loader(
            self.reader,
            ProductPrice,
            ProductPrice.product_id,
            access.visible_ordered_prices(self.scope),
            (ProductPrice.effective_from,),
        )

    @functools.cached_property
    def ordered_program_by_id(self) -> DataLoader[int, Program | None]:
        return by_id_loader(self.reader, Program, access.visible_ordered_programs, self.scope)

    @functools.cached_property
    def attachment_by_id(self) -> DataLoader[int, CustomerAttachment | None]:
        return by_id_loader(
            self.reader, CustomerAttachment, access.visible_customer_attachments, self.scope
        )

    @functools.cached_property
    def attachments_by_customer(self) -> DataLoader[int, list[CustomerAttachment]]:
        return grouped_loader(
            self.reader,
            CustomerAttachment,
            CustomerAttachment.customer_id,
            access.visible_customer_attachments(self.scope),
            (CustomerAttachment.id.desc(),),
        )

    @functools.cached_property
    def attachment_by_order(self) -> DataLoader[int, CustomerAttachment | None]:
        return by_key_loader(
            self.reader,
            CustomerAttachment,
            CustomerAttachment.order_id,
            access.visible_customer_attachments(self.scope),
        )

    @functools.cached_property
    def attachment_content_by_id(self) -> DataLoader[int, bytes | None]:
        return attachment_content_loader(self.reader, self.scope)

    @functools.cached_property
    def rfi_by_order(self) -> DataLoader[int, RfiRequest | None]:
        return by_key_loader(
            self.reader, RfiRequest, RfiRequest.order_id, access.visible_rfi_requests(self.scope)
        )


def attachment_content_loader(
    reader: RequestReader, scope: Scope | None
) -> DataLoader[int, bytes | None]:
    """`AttachmentContentById` (O5): the bytes, only when asked for."""

    async def load(ids: Sequence[int]) -> list[bytes | None]:
        rows = await reader.rows(
            select(CustomerAttachment.id, CustomerAttachment.content).where(
                CustomerAttachment.id.in_(set(ids)), access.visible_customer_attachments(scope)
            )
        )
        found = {pk: bytes(content) for pk, content in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)
