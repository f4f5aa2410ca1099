"""What every PSA screen's resolvers share: whose PSA it is, and a PSA that cannot answer."""

from __future__ import annotations

import strawberry

from prism_graph.common.errors import PublicError
from prism_graph.context import Info
from prism_psa.outcomes import ItemOutcome, RunStatus

SyncRunStatus = strawberry.enum(
    RunStatus,
    name="SyncRunStatus",
    description=(
        "How a product or invoice sync run stands: PENDING or RUNNING while under way, then "
        "NO_CHANGE (nothing needed writing), SUCCESS (written, and read back equal to what "
        "Prism holds), WARNING (done, with something to look at) or FAILURE."
    ),
)
SyncItemOutcome = strawberry.enum(
    ItemOutcome,
    name="SyncItemOutcome",
    description=(
        "How one item of a sync run (a product, a customer, an invoice line) ended: "
        "NO_CHANGE, SUCCESS, WARNING or ERROR, or SKIPPED when it was not the sync's to write."
    ),
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
