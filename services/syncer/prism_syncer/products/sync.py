"""Product sync: plan (`prism_psa.products.preview`), apply through the PSA port, record the
run (S3, S7).

Reads first (one query for the linked services by id, one for the names it may create),
then writes only what the plan says: a sync with nothing changed writes nothing (N3). Each
item's failure is recorded and the others go on; a refusal of the credentials stops the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from prism_domain.sync import ProductSyncMode, SyncTrigger
from prism_platform.logging import log_context
from prism_psa.invoices.sources import program_psa
from prism_psa.outcomes import ItemOutcome, RunStatus
from prism_psa.port import (
    NewService,
    PsaError,
    PsaNameClash,
    PsaPort,
    PsaUnauthorized,
    PsaUnavailable,
)
from prism_psa.products.planning import (
    NAME_CLASH,
    Action,
    PlannedItem,
)
from prism_psa.products.preview import gather, links_of, make_plan, settings_of
from prism_tables.sync.connections import ProgramSyncSettings
from prism_tables.sync.products import ProductServiceLink, ProductSyncRun, ProductSyncRunItem

log = logging.getLogger(__name__)

NO_BILLING_CODE = (
    "No billing code is set for this program: choose one in the program's sync settings."
)
NOT_ATTEMPTED = "Not attempted: the run stopped at an earlier error ({reason})."


def _money(value: Decimal | None) -> str | None:
    return format(value, "f") if value is not None else None


class _Recorder:
    def __init__(
        self,
        session: Session,
        run: ProductSyncRun,
        on_progress: Callable[[int, int], None] | None = None,
        total: int = 0,
    ) -> None:
        self.session = session
        self.run = run
        self.on_progress = on_progress
        self.total = total
        self.done = 0

    def item(
        self,
        planned: PlannedItem,
        action: Action,
        outcome: ItemOutcome,
        message: str | None,
        service_id: int | None = None,
    ) -> None:
        run = self.run
        if outcome is ItemOutcome.ERROR:
            run.failed += 1
        elif outcome is ItemOutcome.NO_CHANGE:
            run.unchanged += 1
        else:
            run.products_synced += 1
            if action in (Action.CREATE, Action.RECREATE):
                run.created += 1
            else:
                run.updated += 1
            if outcome is ItemOutcome.WARNING:
                run.warnings += 1
        self.session.add(
            ProductSyncRunItem(
                run_id=run.id,
                product_id=planned.product_id,
                sku=planned.sku,
                product_name=planned.product_name[:255],
                action=action.value,
                outcome=outcome.value,
                service_id=service_id if service_id is not None else planned.service_id,
                service_name=planned.service_name,
                unit_price=_money(planned.unit_price),
                unit_cost=_money(planned.unit_cost),
                message=message,
            )
        )
        self.done += 1  # every planned item is recorded exactly once
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)


def _status(run: ProductSyncRun) -> RunStatus:
    if run.failed:
        return RunStatus.FAILURE
    if run.warnings:
        return RunStatus.WARNING
    if run.products_synced:
        return RunStatus.SUCCESS
    return RunStatus.NO_CHANGE


def start_run(
    session: Session, partner_id: int, program_id: int, trigger: SyncTrigger, now: datetime
) -> ProductSyncRun:
    run = ProductSyncRun(
        partner_id=partner_id,
        program_id=program_id,
        trigger=trigger.value,
        status=RunStatus.NO_CHANGE.value,
        started_at=now,
    )
    session.add(run)
    session.flush()
    return run


def fail_run(run: ProductSyncRun, message: str) -> ProductSyncRun:
    run.status = RunStatus.FAILURE.value
    run.message = message
    run.finished_at = datetime.now(UTC)
    return run


def sync_products(
    session: Session,
    psa: PsaPort,
    *,
    partner_id: int,
    program_id: int,
    trigger: SyncTrigger,
    now: datetime | None = None,
    on_unauthorized: Callable[[PsaUnauthorized], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ProductSyncRun:
    """Run one product sync and record it; returns the run (flushed, not committed).

    `on_unauthorized` hears of the PSA refusing the credentials (to show it in the
    connection's status, S1); `on_progress(done, total)` of each planned product recorded
    (first with 0 done, once planned: the CLI's progress bar).
    """
    now = now or datetime.now(UTC)
    run = start_run(session, partner_id, program_id, trigger, now)
    with log_context(run_id=f"product:{run.id}"):
        return _sync(session, psa, run, now, on_unauthorized, on_progress)


def _sync(
    session: Session,
    psa: PsaPort,
    run: ProductSyncRun,
    now: datetime,
    on_unauthorized: Callable[[PsaUnauthorized], None] | None,
    on_progress: Callable[[int, int], None] | None,
) -> ProductSyncRun:
    partner_id, program_id = run.partner_id, run.program_id
    settings = settings_of(session, partner_id, program_id)
    if settings is None or settings.billing_code_id is None:
        return fail_run(run, NO_BILLING_CODE)
    mode = ProductSyncMode(settings.product_sync_mode)
    try:
        plan = make_plan(psa, gather(session, partner_id, program_id, mode, now))
    except PsaError as exc:
        if isinstance(exc, PsaUnauthorized) and on_unauthorized is not None:
            on_unauthorized(exc)
        return fail_run(run, str(exc))
    run.products_considered = len(plan.items)
    recorder = _Recorder(session, run, on_progress, len(plan.items))
    if on_progress is not None:
        on_progress(0, len(plan.items))
    links = links_of(session, partner_id, program_id)
    stopped: str | None = None
    for planned in plan.items:
        if stopped is not None and planned.writes:
            recorder.item(
                planned, planned.action, ItemOutcome.ERROR, NOT_ATTEMPTED.format(reason=stopped)
            )
            continue
        if planned.action is Action.SKIP:
            if planned.adopted and planned.service_id is not None:
                _link(session, links, partner_id, program_id, planned, planned.service_id)
            recorder.item(planned, Action.SKIP, ItemOutcome.NO_CHANGE, planned.message)
            continue
        if planned.action is Action.ERROR:
            recorder.item(planned, Action.ERROR, ItemOutcome.ERROR, planned.message)
            continue
        try:
            service_id = _apply(psa, planned, settings)
        except PsaUnavailable as exc:
            adopted = _created_despite(psa, planned, exc)
            if adopted is None:
                stopped = str(exc)
                recorder.item(planned, planned.action, ItemOutcome.ERROR, str(exc))
                continue
            service_id = adopted
        except PsaNameClash:
            message = NAME_CLASH.format(name=planned.service_name)
            recorder.item(planned, planned.action, ItemOutcome.ERROR, message)
            continue
        except PsaUnauthorized as exc:
            stopped = str(exc)
            if on_unauthorized is not None:
                on_unauthorized(exc)
            recorder.item(planned, planned.action, ItemOutcome.ERROR, str(exc))
            continue
        except PsaError as exc:
            recorder.item(planned, planned.action, ItemOutcome.ERROR, str(exc))
            continue
        if planned.action in (Action.CREATE, Action.RECREATE) or planned.adopted:
            _link(session, links, partner_id, program_id, planned, service_id)
        outcome = ItemOutcome.WARNING if planned.warnings else ItemOutcome.SUCCESS
        notes = [*planned.warnings, *([planned.message] if planned.adopted else [])]
        recorder.item(
            planned, planned.action, outcome, " ".join(n for n in notes if n) or None, service_id
        )
    run.status = _status(run).value
    if stopped is not None:
        run.message = stopped
    run.finished_at = datetime.now(UTC)
    session.flush()
    log.info(
        "product sync run %s (partner %s, program %s): %s",
        run.id,
        partner_id,
        program_id,
        run.status,
    )
    return run


def _link(
    session: Session,
    links: dict[int, ProductServiceLink],
    partner_id: int,
    program_id: int,
    planned: PlannedItem,
    service_id: int,
) -> None:
    link = links.get(planned.product_id)
    if link is None:
        link = ProductServiceLink(
            partner_id=partner_id,
            psa=program_psa(session, partner_id, program_id).value,
            program_id=program_id,
            product_id=planned.product_id,
            sku=planned.sku,
            service_id=service_id,
            origin="CREATED",
        )
        session.add(link)
        links[planned.product_id] = link
    else:
        link.service_id = service_id
        link.origin = "CREATED"


def _created_despite(psa: PsaPort, planned: PlannedItem, failure: PsaUnavailable) -> int | None:
    """After a create whose answer was lost (timeout, 502): the service it may have made.

    The plan saw the name free moments ago, so a service with that name now is this create's
    (STYLE: read before writing again; creates are never retried blindly).
    """
    if planned.action not in (Action.CREATE, Action.RECREATE) or planned.service_name is None:
        return None
    try:
        found = psa.services_by_name([planned.service_name])
    except PsaError:
        return None
    service = found.get(planned.service_name.casefold())
    if service is None:
        return None
    log.warning("service %s created despite a lost answer (%s); linked", service.id, failure)
    return service.id


def _apply(psa: PsaPort, planned: PlannedItem, settings: ProgramSyncSettings) -> int:
    assert planned.unit_price is not None and planned.unit_cost is not None
    if planned.action is Action.UPDATE_PRICE:
        assert planned.service_id is not None
        psa.update_service_prices(planned.service_id, planned.unit_price, planned.unit_cost)
        return planned.service_id
    assert planned.service_name is not None and settings.billing_code_id is not None
    return psa.create_service(
        NewService(
            name=planned.service_name,
            description=planned.description or "",
            invoice_description=planned.invoice_description or "",
            unit_price=planned.unit_price,
            unit_cost=planned.unit_cost,
            billing_code_id=settings.billing_code_id,
            vendor_company_id=settings.vendor_company_id,
        )
    )
