"""What every PSA screen's resolvers share: whose PSA it is, and a PSA that cannot answer."""

from __future__ import annotations

from prism_graph.common.enums import described_enum
from prism_graph.common.errors import PublicError
from prism_graph.context import Info
from prism_psa.outcomes import ItemOutcome, RunStatus

SyncRunStatus = described_enum(
    RunStatus,
    name="SyncRunStatus",
    description="How a product or invoice sync run stands: under way, or how it ended.",
    values={
        "PENDING": "Requested; no worker has started it yet.",
        "RUNNING": "A worker is writing to the PSA now.",
        "AWAITING_APPROVAL": "Planned, nothing written yet: its changes wait for a partner "
        "admin to approve or dismiss them (invoice syncs of programs that require approval).",
        "NO_CHANGE": "Finished: the PSA already matched, nothing needed writing.",
        "SUCCESS": "Finished: the changes were written and read back equal to what Prism holds.",
        "WARNING": "Finished, with something to look at (see the items with warnings).",
        "FAILURE": "Finished with errors: see the run's message and its items in error.",
    },
)
SyncItemOutcome = described_enum(
    ItemOutcome,
    name="SyncItemOutcome",
    description="How one item of a sync run (a product, a customer, an invoice line) ended.",
    values={
        "NO_CHANGE": "The PSA already held it; nothing was written.",
        "SUCCESS": "Written to the PSA.",
        "SKIPPED": "Not the sync's to write (e.g. an annual licence, or sync turned off); "
        "the message says why.",
        "WARNING": "Synced, or left as it was, with something to look at; the message says what.",
        "ERROR": "Not synced; the message says why and what to do.",
    },
)


class PsaUnavailable(PublicError):
    code = "PSA_UNAVAILABLE"


def partner_of(info: Info) -> int | None:
    """The partner whose PSA the caller works on: its own, or the one the distributor acts
    for; None for anyone else (a customer's contact, the distributor acting for nobody)."""
    scope = info.context.scope
    if scope is None or scope.customer_id is not None:
        return None
    return scope.partner_id
