"""The sync's tables (all prefixed `sync_`): what users set up through the API (connections,
program settings, mappings), which the syncer reads, and the syncer's own records (links,
runs, jobs, its inbox), which the API reads.

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
