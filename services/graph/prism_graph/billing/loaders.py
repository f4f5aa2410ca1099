"""The billing DataLoaders: an invoice by id and each invoice's lines."""

from __future__ import annotations

import functools

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from prism_graph import access
from prism_graph.common.loaders import RequestLoaders, by_id_loader, grouped_loader
from prism_tables.billing import Invoice, InvoiceLine


class BillingLoaders(RequestLoaders):
    @functools.cached_property
    def invoice_by_id(self) -> DataLoader[int, Invoice | None]:
        return by_id_loader(self.reader, Invoice, access.visible_invoices, self.scope)

    @functools.cached_property
    def lines_by_invoice(self) -> DataLoader[int, list[InvoiceLine]]:
        return grouped_loader(
            self.reader,
            InvoiceLine,
            InvoiceLine.invoice_id,
            InvoiceLine.invoice_id.in_(
                select(Invoice.id).where(access.visible_invoices(self.scope))
            ),
            (InvoiceLine.position,),
        )
