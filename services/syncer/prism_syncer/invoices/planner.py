"""Planning a run (S5, S6, S11): read the invoices, mappings and contracts, and record the
skipped lines and one job per contract service, with its targets and what it is checked
against, as the run moves PENDING -> RUNNING."""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import update
from sqlalchemy.orm import Session

from prism_domain.money import price_text
from prism_platform.db import writer
from prism_psa.invoices import sources
from prism_psa.invoices.planning import plan_invoice
from prism_psa.invoices.values import (
    MESSAGES,
    Contract,
    InvoiceLine,
    IssuedPeriod,
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
            partner_id, program_id = run.partner_id, run.program_id
            only = run.customer_id
            settings = sources.settings_of(session, partner_id, program_id)
            maps = sources.mappings(session, partner_id, program_id)
            links = sources.service_ids(session, partner_id, program_id)
            lines = sources.lines_of(session, run.invoice_id, only)
            invoice = sources.invoice(session, run.invoice_id)
            assert invoice is not None
            program_on = settings is not None and settings.sync_enabled
            synced = {
                c: m
                for c, m in maps.items()
                if program_on and m.sync_enabled and (only is None or c == only)
            }
            # Every synced customer whose products Prism manages, on this invoice or not (S11).
            billed = sources.billed_products(session, partner_id, program_id, synced.keys())
            in_scope = {ln.customer_id for ln in lines}
            managed = in_scope | billed.keys()
            checked = sources.first_synced_days(
                session, partner_id, {synced[c].contract_id for c in managed if c in synced}
            )
            since = min([invoice.period_start, *checked.values()])
            periods = sources.issued_periods(
                session, partner_id, program_id, since, managed & synced.keys()
            )
            names = sources.customer_names(session, managed)
        wanted = {synced[c].contract_id for c in managed if c in synced}
        try:
            found = psa.contracts_by_id(wanted)
        except PsaUnauthorized as exc:
            self._refused(partner_id, exc)
            self._record_refusal(run_id, lines, names, set(synced), in_scope, exc)
            return
        except PsaError as exc:
            log.warning("invoice sync run %s: contracts unreadable (%s); will resume", run_id, exc)
            return
        contracts: dict[int, Contract] = {}
        for customer_id in managed & synced.keys():
            contract_id = synced[customer_id].contract_id
            c = found.get(contract_id)
            contracts[customer_id] = (
                Contract(str(contract_id), c.active, c.recurring, c.start, c.end)
                if c is not None
                else Contract(str(contract_id), active=False)
            )
        skus = {ln.sku for ln in lines} | {sku for products in billed.values() for sku in products}
        services = {sku: links.get(sku.casefold()) for sku in skus}
        this = next((p for p in periods if p.id == invoice.id), None)
        plan = plan_invoice(
            lines,
            contracts=contracts,
            services=services,
            sync_usage=bool(settings and settings.sync_azure_usage),
            period=this or IssuedPeriod(invoice.id, invoice.period_start, invoice.period_end),
            invoices=periods,
            billed={c: billed.get(c, {}) for c in contracts},
            checked_from={(str(c), str(s)): day for (c, s), day in checked.items()},
        )
        self._record_plan(run_id, invoice, lines, plan, names, in_scope)

    def _record_refusal(
        self,
        run_id: int,
        lines: list[InvoiceLine],
        names: dict[int, str],
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
        names: dict[int, str],
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
    names: dict[int, str],
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
