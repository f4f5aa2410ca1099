"""The sync's record, read: one read model for the API's sync screens and `prism sync`.

Which runs count as finished, successful or under way; the statements that read a run's
items and reconciliation, and the newest run per partner and program; and how a run's items
make one result per customer (its own item, with its services' items under it). Both the
API (async, through its loaders) and the command line (a plain session) run these statements
and shape the rows they get the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from prism_psa.outcomes import FINAL, ItemOutcome, RunItemKind, RunStatus
from prism_tables.sync.invoices import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)

FINISHED: tuple[str, ...] = tuple(sorted(FINAL))
SUCCESSFUL: tuple[str, ...] = (RunStatus.NO_CHANGE, RunStatus.SUCCESS, RunStatus.WARNING)
UNFINISHED: tuple[str, ...] = (
    RunStatus.PENDING,
    RunStatus.RUNNING,
    RunStatus.AWAITING_APPROVAL,
)

# The worst first: a customer's outcome when a run recorded only its services' items.
_SEVERITY = (
    ItemOutcome.ERROR,
    ItemOutcome.WARNING,
    ItemOutcome.SUCCESS,
    ItemOutcome.NO_CHANGE,
    ItemOutcome.SKIPPED,
)


def run_status(value: str) -> RunStatus:
    """A stored status; one this code does not know (a newer syncer's) reads as under way."""
    try:
        return RunStatus(value)
    except ValueError:
        return RunStatus.RUNNING


def item_outcome(value: str) -> ItemOutcome:
    """A stored outcome; one this code does not know reads as an error, never as success."""
    try:
        return ItemOutcome(value)
    except ValueError:
        return ItemOutcome.ERROR


def run_items(*run_ids: int) -> Select[InvoiceSyncRunItem]:
    """The items of these invoice runs, by customer name, then as written."""
    return (
        select(InvoiceSyncRunItem)
        .where(InvoiceSyncRunItem.run_id.in_(run_ids))
        .order_by(
            InvoiceSyncRunItem.customer_name,
            InvoiceSyncRunItem.customer_id,
            InvoiceSyncRunItem.id,
        )
    )


def reconciliation(*run_ids: int) -> Select[InvoiceSyncReconciliation]:
    """What these runs read back, per customer, product and stretch of days."""
    return (
        select(InvoiceSyncReconciliation)
        .where(InvoiceSyncReconciliation.run_id.in_(run_ids))
        .order_by(
            InvoiceSyncReconciliation.customer_id,
            InvoiceSyncReconciliation.sku,
            InvoiceSyncReconciliation.as_of,
            InvoiceSyncReconciliation.id,
        )
    )


def newest_run_ids(model: Any, *where: Any) -> Select[int]:
    """The id of the newest run (of `model`, a run table) per partner and program."""
    return select(func.max(model.id)).where(*where).group_by(model.partner_id, model.program_id)


def newest_customer_items(program_ids: Iterable[int], customer_ids: Iterable[int]) -> Select[int]:
    """The id of each customer's own item in the newest finished invoice run of a program."""
    return (
        select(func.max(InvoiceSyncRunItem.id))
        .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncRunItem.run_id)
        .where(
            InvoiceSyncRun.program_id.in_(list(program_ids)),
            InvoiceSyncRun.status.in_(FINISHED),
            InvoiceSyncRunItem.customer_id.in_(list(customer_ids)),
            InvoiceSyncRunItem.kind == RunItemKind.CUSTOMER,
        )
        .group_by(InvoiceSyncRun.program_id, InvoiceSyncRunItem.customer_id)
    )


@dataclass
class CustomerResult:
    """One customer's part of a run: its outcome and its services' items."""

    customer_id: int
    customer_name: str
    outcome: ItemOutcome
    own: InvoiceSyncRunItem | None
    services: list[InvoiceSyncRunItem] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        return self.own.code if self.own else None

    @property
    def message(self) -> str | None:
        return self.own.message if self.own else None

    @property
    def contract_id(self) -> int | None:
        first = self.own or (self.services[0] if self.services else None)
        return first.contract_id if first else None

    def count(self, outcome: ItemOutcome) -> int:
        return sum(1 for s in self.services if item_outcome(s.outcome) is outcome)


def customer_results(items: Iterable[InvoiceSyncRunItem]) -> list[CustomerResult]:
    """A run's items as one result per customer, in the order the customers first appear.

    The customer's own item (kind CUSTOMER) gives its outcome; without one (a run cut short),
    the worst of its services' outcomes does.
    """
    own: dict[int, InvoiceSyncRunItem] = {}
    services: dict[int, list[InvoiceSyncRunItem]] = {}
    for item in items:
        services.setdefault(item.customer_id, [])
        if item.kind == RunItemKind.CUSTOMER:
            own[item.customer_id] = item
        else:
            services[item.customer_id].append(item)
    results = []
    for customer_id, lines in services.items():
        mine = own.get(customer_id)
        if mine is not None:
            outcome = item_outcome(mine.outcome)
        else:
            seen = {item_outcome(s.outcome) for s in lines}
            outcome = next((o for o in _SEVERITY if o in seen), ItemOutcome.NO_CHANGE)
        results.append(
            CustomerResult(customer_id, (mine or lines[0]).customer_name, outcome, mine, lines)
        )
    return results
