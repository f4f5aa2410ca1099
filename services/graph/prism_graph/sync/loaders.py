"""The DataLoaders of the PSA sync's tables (S4, S7): product and invoice sync runs with
their items and reconciliation, customer mappings, and each customer's last invoice sync.

The syncer writes these tables (`prism_tables.sync`); the API reads them to show sync status,
through the read model both share (`prism_psa.history`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Select, select
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
from prism_psa import history
from prism_tables.sync.connections import CustomerMapping
from prism_tables.sync.invoices import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from prism_tables.sync.products import ProductSyncRun, ProductSyncRunItem


class SyncLoaders(RequestLoaders):
    # Product sync runs (S7)

    @functools.cached_property
    def product_sync_run_by_id(self) -> DataLoader[int, ProductSyncRun | None]:
        return by_id_loader(
            self.reader, ProductSyncRun, access.visible_product_sync_runs, self.scope
        )

    @functools.cached_property
    def items_by_product_sync_run(self) -> DataLoader[int, list[ProductSyncRunItem]]:
        return grouped_loader(
            self.reader,
            ProductSyncRunItem,
            ProductSyncRunItem.run_id,
            ProductSyncRunItem.run_id.in_(
                select(ProductSyncRun.id).where(access.visible_product_sync_runs(self.scope))
            ),
            (ProductSyncRunItem.sku, ProductSyncRunItem.id),
        )

    # Customer mapping and invoice sync runs (S4, S7)

    @functools.cached_property
    def customer_mappings_by_customer(self) -> DataLoader[int, list[CustomerMapping]]:
        return grouped_loader(
            self.reader,
            CustomerMapping,
            CustomerMapping.customer_id,
            access.visible_customer_mappings(self.scope),
            (CustomerMapping.program_id, CustomerMapping.id),
        )

    @functools.cached_property
    def invoice_sync_run_by_id(self) -> DataLoader[int, InvoiceSyncRun | None]:
        return by_id_loader(
            self.reader, InvoiceSyncRun, access.visible_invoice_sync_runs, self.scope
        )

    @functools.cached_property
    def invoice_sync_run_reverting(self) -> DataLoader[int, InvoiceSyncRun | None]:
        """The REVERT run of each run id, if any (`reverts_run_id` is unique)."""
        return by_key_loader(
            self.reader,
            InvoiceSyncRun,
            InvoiceSyncRun.reverts_run_id,
            access.visible_invoice_sync_runs(self.scope),
        )

    @functools.cached_property
    def items_by_invoice_sync_run(self) -> DataLoader[int, list[InvoiceSyncRunItem]]:
        return grouped_loader(
            self.reader,
            InvoiceSyncRunItem,
            InvoiceSyncRunItem.run_id,
            InvoiceSyncRunItem.run_id.in_(_visible_invoice_runs(self.scope)),
            (
                InvoiceSyncRunItem.customer_name,
                InvoiceSyncRunItem.customer_id,
                InvoiceSyncRunItem.id,
            ),
        )

    @functools.cached_property
    def reconciliation_by_invoice_sync_run(
        self,
    ) -> DataLoader[int, list[InvoiceSyncReconciliation]]:
        return grouped_loader(
            self.reader,
            InvoiceSyncReconciliation,
            InvoiceSyncReconciliation.run_id,
            InvoiceSyncReconciliation.run_id.in_(_visible_invoice_runs(self.scope)),
            (
                InvoiceSyncReconciliation.customer_id,
                InvoiceSyncReconciliation.sku,
                InvoiceSyncReconciliation.id,
            ),
        )

    @functools.cached_property
    def last_invoice_sync_by_customer(
        self,
    ) -> DataLoader[tuple[int, int], tuple[InvoiceSyncRunItem, InvoiceSyncRun] | None]:
        return last_customer_sync_loader(self.reader, self.scope)


def last_customer_sync_loader(
    reader: RequestReader, scope: Scope | None
) -> DataLoader[tuple[int, int], tuple[InvoiceSyncRunItem, InvoiceSyncRun] | None]:
    """`LastInvoiceSyncByProgramAndCustomer` (S4, S7): the customer's own item (not a
    subscription's) of the newest finished invoice sync run of the program that included it."""

    async def load(
        keys: Sequence[tuple[int, int]],
    ) -> list[tuple[InvoiceSyncRunItem, InvoiceSyncRun] | None]:
        programs = {p for p, _ in keys}
        customers = {c for _, c in keys}
        newest = history.newest_customer_items(programs, customers).where(
            access.visible_invoice_sync_runs(scope)
        )
        rows = await reader.rows(
            select(InvoiceSyncRunItem, InvoiceSyncRun)
            .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncRunItem.run_id)
            .where(InvoiceSyncRunItem.id.in_(newest))
        )
        found = {(run.program_id, item.customer_id): (item, run) for item, run in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def _visible_invoice_runs(scope: Scope | None) -> Select[int]:
    return select(InvoiceSyncRun.id).where(access.visible_invoice_sync_runs(scope))
