"""The `prism sync` commands: each resolves what was named, calls the syncer's use case and
prints what it recorded. The exit code says how the run ended (see `prism_cli.sync`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_cli.sync import texts, views
from prism_cli.sync.context import (
    Named,
    Refused,
    SyncContext,
    UsageError,
    find_customer,
    find_invoice,
    find_partner,
    find_program,
)
from prism_cli.sync.render import print_json, progress_bar
from prism_domain.sync import ProductSyncMode, SyncTrigger
from prism_platform.db import writer
from prism_psa import history
from prism_psa.connections import (
    Adapter,
    PsaNotConfigured,
    connection_of,
    not_connected,
    program_psa,
    unreadable,
)
from prism_psa.invoices import sources
from prism_psa.invoices.preview import preview_invoice
from prism_psa.invoices.revert import refusal as revert_refusal
from prism_psa.limits import BudgetUse
from prism_psa.outcomes import RunStatus
from prism_psa.port import PsaError
from prism_psa.products import preview as product_plan
from prism_psa.secrets import UnreadableSecret
from prism_syncer.invoices.recovery import safety_check as run_safety_check
from prism_syncer.invoices.revert import record_revert
from prism_syncer.invoices.sync import start_run
from prism_syncer.products.handlers import notify, run_product_sync
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductSyncRun

FAILED = RunStatus.FAILURE.value
TURN_ON = "turn it on in the program's sync settings (S9)"


def _show(args: argparse.Namespace, view: views.View, text: Callable[[views.View], str]) -> None:
    if args.json:
        print_json(view)
    else:
        print(text(view))


def _partner_and_program(session: Session, args: argparse.Namespace) -> tuple[Named, Named]:
    return find_partner(session, args.partner), find_program(session, args.program)


def _set_up(session: Session, partner: Named, program: Named) -> ProgramSyncSettings:
    settings = product_plan.settings_of(session, partner.id, program.id)
    if settings is None:
        raise Refused(
            f"{program} is not set up for PSA sync for {partner}: save its sync settings first"
        )
    return settings


# -- status, history, one run ------------------------------------------------------------------


def status(ctx: SyncContext, args: argparse.Namespace) -> int:
    with Session(ctx.engine) as session:
        partner = find_partner(session, args.partner) if args.partner else None
        program = find_program(session, args.program) if args.program else None
        budgets = _budgets(ctx, session, partner) if args.budget else None
        found = views.status(session, partner=partner, program=program, budgets=budgets)
    if args.json:
        print_json(found)
    else:
        print(texts.status_text(found))
    return 0


def _budgets(ctx: SyncContext, session: Session, only: Named | None) -> dict[int, BudgetUse | str]:
    """N3: each connected partner's Autotask database budget, as the workers count it."""
    if not ctx.settings.redis_url or ctx.config.limits is None:
        return dict.fromkeys(
            _connected(session, only),
            "unknown without REDIS_URL (each process counts its own requests)",
        )
    found: dict[int, BudgetUse | str] = {}
    for partner_id in _connected(session, only):
        row = connection_of(session, partner_id)
        assert row is not None
        try:
            use = ctx.config.request_budget(row)
            found[partner_id] = use if use is not None else "unknown for this limiter backend"
        except UnreadableSecret:
            found[partner_id] = "unknown: the stored credentials cannot be read"
        except Exception as exc:  # a status line, not a failure of the command
            found[partner_id] = f"unknown: {exc}"
    return found


def _connected(session: Session, only: Named | None) -> list[int]:
    stmt = select(PsaConnection.partner_id)
    if only is not None:
        stmt = stmt.where(PsaConnection.partner_id == only.id)
    return [int(p) for p in session.scalars(stmt)]


def runs(ctx: SyncContext, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    with Session(ctx.engine) as session:
        partner = find_partner(session, args.partner) if args.partner else None
        program = find_program(session, args.program) if args.program else None
        found = views.history(
            session,
            partner=partner,
            program=program,
            kinds={args.kind} if args.kind else {"product", "invoice"},
            limit=args.limit,
        )
    if args.json:
        print_json(found)
    else:
        print(texts.runs_text(found))
    return 0


def show(ctx: SyncContext, args: argparse.Namespace) -> int:
    with Session(ctx.engine) as session:
        if args.kind == "product":
            product_run = session.get(ProductSyncRun, args.run_id)
            if product_run is None:
                raise UsageError(f"no product sync run {args.run_id}")
            _show(args, views.product_run_detail(session, product_run), texts.product_run_text)
        else:
            invoice_run = session.get(InvoiceSyncRun, args.run_id)
            if invoice_run is None:
                raise UsageError(f"no invoice sync run {args.run_id}")
            _show(args, views.invoice_run_detail(session, invoice_run), texts.invoice_run_text)
    return 0


# -- product sync (S3) -------------------------------------------------------------------------


def products(ctx: SyncContext, args: argparse.Namespace) -> int:
    with Session(ctx.engine) as session:
        partner, program = _partner_and_program(session, args)
        settings = _set_up(session, partner, program)
        enabled = settings.sync_enabled
    if args.preview:
        return _preview(ctx, args, partner, program)
    if not enabled:
        raise Refused(f"product sync of {program} is off for {partner}: {TURN_ON}")
    with (
        progress_bar("products", "product", enabled=not args.no_progress) as on_progress,
        Session(writer(ctx.engine)) as session,
        session.begin(),
    ):
        run = run_product_sync(
            session, ctx.config, partner.id, program.id, SyncTrigger.MANUAL, on_progress
        )
        assert run is not None  # sync is on (checked above)
        notify(session, run, ctx.links)  # S8, as the worker does
        run_id = run.id
    with Session(ctx.engine) as session:
        done = session.get(ProductSyncRun, run_id)
        assert done is not None
        _show(args, views.product_run_detail(session, done), texts.product_run_text)
        return 1 if done.status == FAILED else 0


def _label(session: Session, partner: Named, program: Named) -> str:
    """The name of the PSA the program syncs to, for messages."""
    return program_psa(session, partner.id, program.id).label


def _open_psa(ctx: SyncContext, session: Session, partner: Named, program: Named) -> Adapter:
    """The PSA the program syncs to, from the partner's stored connection to it; refused
    when there is none."""
    psa = program_psa(session, partner.id, program.id)
    row = connection_of(session, partner.id, psa)
    if row is None:
        raise Refused(not_connected(psa))
    try:
        return ctx.config.open(row)
    except UnreadableSecret:
        raise Refused(unreadable(psa)) from None
    except PsaNotConfigured as exc:
        raise Refused(str(exc)) from None


def _preview(ctx: SyncContext, args: argparse.Namespace, partner: Named, program: Named) -> int:
    """S3 preview: reads the price list and Autotask, writes nothing anywhere."""
    with Session(ctx.engine) as session:
        psa = _open_psa(ctx, session, partner, program)
        settings = product_plan.settings_of(session, partner.id, program.id)
        mode = ProductSyncMode(settings.product_sync_mode) if settings else ProductSyncMode.ALL
        try:
            plan = product_plan.preview(session, psa, partner.id, program.id, datetime.now(UTC))
        except PsaError as exc:
            raise Refused(f"{_label(session, partner, program)} could not be read: {exc}") from None
        finally:
            psa.close()
    _show(args, views.preview(plan, partner, program, mode.value), texts.preview_text)
    return 0


# -- invoice sync (S5) -------------------------------------------------------------------------


def invoices(ctx: SyncContext, args: argparse.Namespace) -> int:
    """A MANUAL run, recorded as the API's `syncInvoices` would, then driven here and now;
    with --revert, a REVERT run of that run (as `revertInvoiceSyncRun` would)."""
    if args.revert is not None:
        return _revert(ctx, args)
    with Session(ctx.engine) as session:
        partner, program = _partner_and_program(session, args)
        customer = find_customer(session, partner, args.customer) if args.customer else None
        invoice_id = (
            find_invoice(session, partner, program, args.invoice)
            if args.invoice
            else sources.latest_invoice_id(
                session, partner.id, program.id, customer.id if customer else None
            )
        )
        if not _set_up(session, partner, program).sync_enabled:
            raise Refused(f"invoice sync of {program} is off for {partner}: {TURN_ON}")
        if args.preview:
            return _invoice_preview(ctx, args, session, partner, program, invoice_id, customer)
    with Session(writer(ctx.engine)) as session, session.begin():
        run_id = start_run(
            session,
            partner_id=partner.id,
            program_id=program.id,
            trigger=SyncTrigger.MANUAL.value,
            invoice_id=invoice_id,
            customer_id=customer.id if customer else None,
        ).id
    print(f"invoice sync run {run_id} recorded", file=sys.stderr)
    return _drive(ctx, args, run_id)


def _invoice_preview(
    ctx: SyncContext,
    args: argparse.Namespace,
    session: Session,
    partner: Named,
    program: Named,
    invoice_id: int | None,
    customer: Named | None,
) -> int:
    """S5 preview: the adjustments a run would write now, with their prorated amounts, read
    with the sync's own planning; writes nothing anywhere (only Autotask reads)."""
    if invoice_id is None:
        raise Refused("no invoice has been issued for this program yet: nothing to preview")
    psa = _open_psa(ctx, session, partner, program)
    try:
        found = preview_invoice(session, psa, invoice_id, customer.id if customer else None)
    except PsaError as exc:
        raise Refused(f"{_label(session, partner, program)} could not be read: {exc}") from None
    finally:
        psa.close()
    assert found is not None  # the invoice was found above
    _show(args, views.invoice_preview(session, found), texts.invoice_preview_text)
    return 0


def _revert(ctx: SyncContext, args: argparse.Namespace) -> int:
    """S10: the rule checked here for immediate feedback (and again when the run is planned)."""
    if args.invoice or args.customer:
        raise Refused("--revert takes no --invoice or --customer: it reverts the whole run")
    with Session(ctx.engine) as session:
        partner, program = _partner_and_program(session, args)
        reverted = session.get(InvoiceSyncRun, args.revert)
        if reverted is not None and reverted.program_id != program.id:
            raise Refused(f"invoice sync run {args.revert} is not a run of {program}")
        refused = revert_refusal(session, partner.id, args.revert)
        if refused is not None:
            raise Refused(refused.message)
    with Session(writer(ctx.engine)) as session, session.begin():
        reverted = session.get(InvoiceSyncRun, args.revert)
        assert reverted is not None
        run_id = record_revert(session, reverted)
    print(f"invoice sync run {run_id} recorded: reverts run {args.revert}", file=sys.stderr)
    return _drive(ctx, args, run_id)


def _drive(ctx: SyncContext, args: argparse.Namespace, run_id: int) -> int:
    sync = ctx.invoice_sync()
    with progress_bar("contract services", "service", enabled=not args.no_progress) as on_progress:
        status = sync.drive(run_id, on_progress=on_progress)
    with Session(ctx.engine) as session:
        run = session.get(InvoiceSyncRun, run_id)
        assert run is not None
        _show(args, views.invoice_run_detail(session, run), texts.invoice_run_text)
    if status in history.UNFINISHED:
        print(
            f"prism sync: run {run_id} is unfinished ({status}): Autotask could not be reached"
            " for part of it; `prism sync safety-check` resumes it",
            file=sys.stderr,
        )
        return 1
    return 1 if status == FAILED else 0


def safety_check(ctx: SyncContext, args: argparse.Namespace) -> int:
    """S5, S10: resume unfinished runs, then sync issued invoices no run ever took up."""
    driven = run_safety_check(ctx.engine, ctx.invoice_sync())
    with Session(ctx.engine) as session:
        found = views.invoice_runs(session, driven)
    if args.json:
        print_json(found)
    elif not found:
        print("nothing to do: no unfinished run, no issued invoice left unsynced")
    else:
        print(texts.runs_text(found))
    return 1 if any(v["status"] in (FAILED, *history.UNFINISHED) for v in found) else 0


COMMANDS: dict[str, Callable[[SyncContext, argparse.Namespace], int]] = {
    "status": status,
    "runs": runs,
    "show": show,
    "products": products,
    "invoices": invoices,
    "safety-check": safety_check,
}
