"""Planning a run (S5, S6, S11): read the invoices, mappings and contracts, and record the
skipped lines and one job per contract service, with its targets and what it is checked
against, as the run moves PENDING -> RUNNING."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import update
from sqlalchemy.orm import Session

from prism_domain.money import price_text
from prism_platform.db import writer
from prism_psa.invoices import sources
from prism_psa.invoices.inputs import contracts_of, gather, plan_of
from prism_psa.invoices.values import (
    MESSAGES,
    InvoiceLine,
    Outcome,
    Plan,
)
from prism_psa.outcomes import ItemOutcome, RunStatus
from prism_psa.port import (
    ContractPort,
    ErrorCode,
    PsaError,
    PsaUnauthorized,
)
from prism_syncer.invoices.executor import Execution
from prism_syncer.invoices.jobs import (
    SKIP_OUTCOMES,
    JobStatus,
    line_json,
    quantity_text,
    targets_json,
)
from prism_tables.sync.invoices import (
    InvoiceSyncJob,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)

log = logging.getLogger(__name__)


class Planning(Execution):
    """Step 2: plan the run into its skipped items and jobs (once: PENDING -> RUNNING)."""

    def plan(self, run_id: int, psa: ContractPort) -> None:
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None and run.invoice_id is not None
            partner_id = run.partner_id
            invoice = sources.invoice(session, run.invoice_id)
            assert invoice is not None
            inputs = gather(session, invoice, run.customer_id)
        lines, names, in_scope = inputs.lines, inputs.names, inputs.in_scope
        try:
            found = psa.contracts_by_id(inputs.contract_ids)
        except PsaUnauthorized as exc:
            self._refused(partner_id, exc)
            self._record_refusal(run_id, lines, names, set(inputs.synced), in_scope, exc)
            return
        except PsaError as exc:
            log.warning("invoice sync run %s: contracts unreadable (%s); will resume", run_id, exc)
            return
        plan = plan_of(inputs, contracts_of(inputs, found))
        self._record_plan(run_id, invoice, lines, plan, names, in_scope)

    def _record_refusal(
        self,
        run_id: int,
        lines: list[InvoiceLine],
        names: Mapping[int, str],
        synced: set[int],
        in_scope: set[int],
        exc: PsaUnauthorized,
    ) -> None:
        """The PSA refused the credentials before anything was planned: every synced line is
        an UNAUTHORIZED error with the action to take (S6); the run is then recorded."""
        with Session(writer(self.engine)) as session, session.begin():
            claimed = session.execute(
                update(InvoiceSyncRun)
                .where(InvoiceSyncRun.id == run_id, InvoiceSyncRun.status == RunStatus.PENDING)
                .values(
                    status=RunStatus.RUNNING.value,
                    customers_considered=len(in_scope),
                    message=str(exc),
                )
                .returning(InvoiceSyncRun.id)
            ).first()
            if claimed is None:
                return
            for line in lines:
                if line.customer_id in synced:
                    item = _line_item(
                        run_id, line, names, ItemOutcome.ERROR, ErrorCode.UNAUTHORIZED, str(exc)
                    )
                else:
                    outcome = Outcome.CUSTOMER_NOT_SYNCED
                    item = _line_item(
                        run_id, line, names, ItemOutcome.SKIPPED, outcome.value, MESSAGES[outcome]
                    )
                session.add(item)

    def _record_plan(
        self,
        run_id: int,
        invoice: sources.IssuedInvoice,
        lines: list[InvoiceLine],
        plan: Plan,
        names: Mapping[int, str],
        in_scope: set[int],
    ) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            claimed = session.execute(
                update(InvoiceSyncRun)
                .where(InvoiceSyncRun.id == run_id, InvoiceSyncRun.status == RunStatus.PENDING)
                .values(status=RunStatus.RUNNING.value, customers_considered=len(in_scope))
                .returning(InvoiceSyncRun.id)
            ).first()
            if claimed is None:
                return  # another worker planned it
            unused = list(plan.skipped)
            planned: dict[tuple[int, str], list[InvoiceLine]] = defaultdict(list)
            for line in lines:
                match = next(
                    (
                        s
                        for s in unused
                        if s.outcome is not Outcome.DATE_OUTSIDE_CONTRACT
                        and (s.customer_id, s.sku, s.subscription_id)
                        == (line.customer_id, line.sku, line.subscription_id)
                    ),
                    None,
                )
                if match is None:
                    planned[(line.customer_id, line.sku)].append(line)
                    continue
                unused.remove(match)
                session.add(
                    _line_item(
                        run_id,
                        line,
                        names,
                        SKIP_OUTCOMES[match.outcome],
                        match.outcome.value,
                        match.message,
                    )
                )
            for skipped in unused:  # dates outside the contract: per customer and product
                session.add(
                    InvoiceSyncRunItem(
                        run_id=run_id,
                        customer_id=skipped.customer_id,
                        customer_name=names.get(skipped.customer_id, "")[:255],
                        sku=skipped.sku,
                        outcome=SKIP_OUTCOMES[skipped.outcome].value,
                        code=skipped.outcome.value,
                        message=skipped.message,
                    )
                )
            for (contract_ref, service_ref), targets in plan.by_contract_service().items():
                customer_id, sku = targets[0].customer_id, targets[0].sku
                check = plan.checks[(contract_ref, service_ref)]
                session.add(
                    InvoiceSyncJob(
                        run_id=run_id,
                        partner_id=invoice.partner_id,
                        customer_id=customer_id,
                        contract_id=int(contract_ref),
                        service_id=int(service_ref),
                        sku=sku,
                        until=check.until,
                        check_from=check.start,
                        expected=[
                            {"effective": s.effective.isoformat(), "units": s.units}
                            for s in check.expected
                        ],
                        targets=targets_json(targets),
                        lines=[line_json(ln) for ln in planned.get((customer_id, sku), [])],
                        status=JobStatus.PENDING.value,
                        adjustments_applied=0,
                        attempts=0,
                    )
                )


def _line_item(
    run_id: int,
    line: InvoiceLine,
    names: Mapping[int, str],
    outcome: ItemOutcome,
    code: str,
    message: str,
) -> InvoiceSyncRunItem:
    return InvoiceSyncRunItem(
        run_id=run_id,
        customer_id=line.customer_id,
        customer_name=names.get(line.customer_id, "")[:255],
        subscription_id=line.subscription_id,
        sku=line.sku,  # "" for a line without a SKU: only customer items have None
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=quantity_text(line.quantity),
        unit_cost=price_text(line.unit_cost),
        unit_price=price_text(line.unit_price),
        outcome=outcome.value,
        code=code,
        message=message,
    )
