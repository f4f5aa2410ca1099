"""Use case of "revert a run" (S10; docs/psa-sync.md, "Reverting a run"): check the rule for
immediate feedback and record `invoice_sync.revert_requested` in the outbox. The syncer
records the REVERT run, checks the rule again when it plans it (that check decides), and
writes the compensating adjustments (ADR-7: the syncer alone writes the run records)."""

from __future__ import annotations

from prism_domain.errors import FieldError
from prism_domain.sync import InvoiceSyncRevertRequested
from prism_graph.database import Database
from prism_graph.sync.mapping_checks import connection_error
from prism_psa.invoices.revert import refusal
from prism_tables.sync.invoices import InvoiceSyncRun


async def request_revert(
    database: Database, partner_id: int, run_id: int
) -> InvoiceSyncRun | list[FieldError]:
    """The partner's run to revert, once its revert is recorded; else why not (another
    partner's run, or none: NOT_FOUND)."""
    async with database.unit_of_work() as uow:
        refused = await uow.session.run_sync(lambda session: refusal(session, partner_id, run_id))
        if refused is not None:
            return [FieldError("runId", refused.code, refused.message)]
        run = await uow.session.get(InvoiceSyncRun, run_id)
        assert run is not None
        problem = await connection_error(uow.session, partner_id, run.program_id)
        if problem is not None:
            return [problem]
        uow.record(
            InvoiceSyncRevertRequested(
                aggregate_id=f"{partner_id}:{run.program_id}",
                partner_id=partner_id,
                program_id=run.program_id,
                run_id=run.id,
            )
        )
        await uow.commit()
        return run
