"""The sync's tables (all prefixed `sync_`), written by the syncer and read by the API.

Which service writes which table: docs/architecture.md, table ownership.
"""

from prism_tables.sync.connections import (
    CustomerMapping,
    ProgramSyncSettings,
    PsaConnection,
)
from prism_tables.sync.inbox import ProcessedEvent
from prism_tables.sync.invoices import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from prism_tables.sync.products import (
    ProductServiceLink,
    ProductSyncRun,
    ProductSyncRunItem,
)

__all__ = [
    "CustomerMapping",
    "InvoiceSyncReconciliation",
    "InvoiceSyncRun",
    "InvoiceSyncRunItem",
    "ProcessedEvent",
    "ProductServiceLink",
    "ProductSyncRun",
    "ProductSyncRunItem",
    "ProgramSyncSettings",
    "PsaConnection",
]
