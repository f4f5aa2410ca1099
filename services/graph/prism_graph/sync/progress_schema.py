"""Live progress of an invoice sync run (issue 16): the `invoiceSyncRunProgress` subscription,
served over graphql-transport-ws. Like the rest of the PSA screens it is the caller's
partner's (T3): another partner's run is answered like one that does not exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import strawberry
from strawberry import relay

from prism_domain.access import Permission
from prism_graph.access import requires, visible_invoice_sync_runs
from prism_graph.common.errors import PublicError
from prism_graph.common.ids import node_pk
from prism_graph.context import Info
from prism_graph.sync.common import SyncRunStatus
from prism_graph.sync.invoice_types import InvoiceSyncRun, gid
from prism_graph.sync.live import ProgressHub, RunState
from prism_psa.history import run_status


class RunNotFound(PublicError):
    code = "NOT_FOUND"


class LiveProgressUnavailable(PublicError):
    code = "SERVICE_UNAVAILABLE"


@strawberry.type(
    description="Where an invoice sync run stands: sent when you subscribe, then again each "
    "time something of it changes, and a last time when it has finished."
)
class InvoiceSyncRunProgress:
    run_id: strawberry.ID = strawberry.field(description="The run (an InvoiceSyncRun).")
    status: SyncRunStatus = strawberry.field(  # type: ignore[valid-type]
        description="How it stands now, or how it ended. Any status that is not one of the "
        "finished ones means it is still under way, and more messages will follow."
    )
    finished: bool = strawberry.field(
        description="The run has finished: this is the last message, the stream completes."
    )
    jobs_done: int = strawberry.field(
        description="Contract services the run has finished writing and checking (each "
        "customer's product on its contract is one)."
    )
    jobs_total: int = strawberry.field(
        description="Contract services the run will write and check; 0 until it has planned "
        "them (while pending)."
    )
    customers_considered: int = strawberry.field(description="Customers on the invoice.")
    customers_synced: int = strawberry.field(description="Customers synced without error.")
    customers_failed: int = strawberry.field(description="Customers with an error.")
    adjustments_applied: int = strawberry.field(
        description="Unit changes (ContractServiceAdjustments) written to the PSA so far."
    )
    message: str | None = strawberry.field(
        description="Once finished: why the run as a whole failed and what to do; else null."
    )
    run: InvoiceSyncRun = strawberry.field(
        description="The run's record as it stands now, with its customers' results."
    )

    @classmethod
    def of(cls, state: RunState) -> InvoiceSyncRunProgress:
        row = state.row
        return cls(
            run_id=gid("InvoiceSyncRun", row.id),
            status=run_status(row.status),
            finished=state.final,
            jobs_done=state.jobs_done,
            jobs_total=state.jobs_total,
            customers_considered=row.customers_considered,
            customers_synced=row.customers_synced,
            customers_failed=row.customers_failed,
            adjustments_applied=row.adjustments_applied,
            message=row.message,
            run=InvoiceSyncRun.from_row(row),
        )


def _hub(info: Info) -> ProgressHub:
    hub = info.context.progress
    if hub is None:
        raise LiveProgressUnavailable("Live progress is not served here; query the run instead.")
    return hub


@strawberry.type
class SyncSubscriptions:
    @strawberry.subscription(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="Follow one invoice sync run live: its state now, then each change "
        "(status, contract services done, counts), until it finishes; then the stream "
        "completes. Over a WebSocket (graphql-transport-ws) at /graphql.",
    )
    async def invoice_sync_run_progress(
        self,
        info: Info,
        run_id: Annotated[
            relay.GlobalID, strawberry.argument(description="The run's id (an InvoiceSyncRun).")
        ],
    ) -> AsyncIterator[InvoiceSyncRunProgress]:
        hub = _hub(info)
        pk = node_pk(run_id, "InvoiceSyncRun")
        visible = visible_invoice_sync_runs(info.context.scope)
        first = (await hub.read([pk], visible)).get(pk) if pk > 0 else None
        if first is None:
            raise RunNotFound("No such invoice sync run.")
        return _follow(info, hub, first)


async def _follow(
    info: Info, hub: ProgressHub, first: RunState
) -> AsyncIterator[InvoiceSyncRunProgress]:
    async with hub.watch(first.row.id) as watcher:
        state = first
        while True:
            yield InvoiceSyncRunProgress.of(state)
            if state.final:
                return
            # The connection lives long: what the last message's fields read is not kept.
            await info.context.fresh_reads()
            while True:
                latest = await watcher.next()
                if latest is None:
                    return  # the run is gone (its partner was deleted)
                if latest.key != state.key:
                    state = latest
                    break


__all__ = ["InvoiceSyncRunProgress", "SyncSubscriptions"]
