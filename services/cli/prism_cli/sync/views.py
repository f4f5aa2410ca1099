"""What `prism sync` shows, read from the syncer's records (S7): each view is a JSON-ready
dict (printed as is with `--json`) and a function that writes it as aligned text."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_cli.sync.context import Named, Names, names
from prism_cli.sync.render import money
from prism_graph.billing.document import invoice_number
from prism_psa import history as record
from prism_psa.invoices import sources
from prism_psa.invoices.preview import InvoicePreview
from prism_psa.limits import BudgetUse
from prism_psa.products.planning import Action, Plan
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection
from prism_tables.sync.invoices import (
    InvoiceSyncRun,
)
from prism_tables.sync.products import ProductSyncRun, ProductSyncRunItem

View = dict[str, Any]


# -- runs --------------------------------------------------------------------------------------


def product_run(run: ProductSyncRun, known: Names) -> View:
    return {
        "kind": "product",
        "id": run.id,
        "partner": known.partner(run.partner_id).json(),
        "program": known.program(run.program_id).json(),
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": {
            "products_considered": run.products_considered,
            "products_synced": run.products_synced,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "failed": run.failed,
            "warnings": run.warnings,
        },
        "message": run.message,
    }


def invoice_run(session: Session, run: InvoiceSyncRun, known: Names) -> View:
    invoice = sources.invoice(session, run.invoice_id) if run.invoice_id else None
    customer = (
        sources.customer_names(session, {run.customer_id}).get(run.customer_id, "?")
        if run.customer_id
        else None
    )
    return {
        "kind": "invoice",
        "id": run.id,
        "partner": known.partner(run.partner_id).json(),
        "program": known.program(run.program_id).json(),
        "invoice": (
            {
                "id": invoice.id,
                "number": invoice_number(invoice.period_start, invoice.id),
                "period_start": invoice.period_start,
                "period_end": invoice.period_end,
            }
            if invoice
            else None
        ),
        "customer": (
            Named(run.customer_id, customer).json()
            if run.customer_id and customer is not None
            else None
        ),
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": {
            "customers_considered": run.customers_considered,
            "customers_synced": run.customers_synced,
            "customers_failed": run.customers_failed,
            "subscriptions_synced": run.subscriptions_synced,
            "adjustments_applied": run.adjustments_applied,
            "warnings": run.warnings,
        },
        "message": run.message,
    }


# -- one run in detail -------------------------------------------------------------------------


def product_run_detail(session: Session, run: ProductSyncRun) -> View:
    view = product_run(run, names(session, [run.partner_id], [run.program_id]))
    items = session.scalars(
        select(ProductSyncRunItem)
        .where(ProductSyncRunItem.run_id == run.id)
        .order_by(ProductSyncRunItem.id)
    )
    view["items"] = [
        {
            "sku": i.sku,
            "product": i.product_name,
            "action": i.action,
            "outcome": i.outcome,
            "service_id": i.service_id,
            "service_name": i.service_name,
            "unit_price": money(i.unit_price),
            "unit_cost": money(i.unit_cost),
            "message": i.message,
        }
        for i in items
    ]
    return view


def invoice_run_detail(session: Session, run: InvoiceSyncRun) -> View:
    view = invoice_run(session, run, names(session, [run.partner_id], [run.program_id]))
    results = record.customer_results(session.scalars(record.run_items(run.id)))
    checks = session.scalars(record.reconciliation(run.id)).all()
    customer_names = {r.customer_id: r.customer_name for r in results}
    view["customers"] = [
        {
            "customer": Named(r.customer_id, r.customer_name).json(),
            "outcome": r.outcome.value,
            "code": r.code,
            "message": r.message,
        }
        for r in results
    ]
    view["subscriptions"] = [
        {
            "customer": Named(i.customer_id, i.customer_name).json(),
            "subscription_id": i.subscription_id,
            "sku": i.sku,
            "period_start": i.period_start,
            "period_end": i.period_end,
            "quantity": i.quantity,
            "unit_cost": money(i.unit_cost),
            "unit_price": money(i.unit_price),
            "contract_id": i.contract_id,
            "contract_service_id": i.contract_service_id,
            "outcome": i.outcome,
            "code": i.code,
            "message": i.message,
        }
        for r in results
        for i in r.services
    ]
    view["reconciliation"] = [
        {
            "customer": Named(c.customer_id, customer_names.get(c.customer_id, "?")).json(),
            "sku": c.sku,
            "contract_id": c.contract_id,
            "contract_service_id": c.contract_service_id,
            "as_of": c.as_of,
            "invoice_units": c.invoice_units,
            "psa_units": c.psa_units,
            "matches": c.matches,
        }
        for c in checks
    ]
    return view


# -- history -----------------------------------------------------------------------------------


def history(
    session: Session,
    *,
    partner: Named | None,
    program: Named | None,
    kinds: Collection[str],
    limit: int,
) -> list[View]:
    """Runs of both kinds (or one), newest first."""
    found: list[ProductSyncRun | InvoiceSyncRun] = []
    for model in (ProductSyncRun, InvoiceSyncRun):
        if ("product" if model is ProductSyncRun else "invoice") not in kinds:
            continue
        stmt = select(model).order_by(model.started_at.desc(), model.id.desc()).limit(limit)
        if partner is not None:
            stmt = stmt.where(model.partner_id == partner.id)
        if program is not None:
            stmt = stmt.where(model.program_id == program.id)
        found.extend(session.scalars(stmt))
    found.sort(key=lambda r: (r.started_at, r.id), reverse=True)
    found = found[:limit]
    known = names(session, {r.partner_id for r in found}, {r.program_id for r in found})
    return [
        product_run(r, known) if isinstance(r, ProductSyncRun) else invoice_run(session, r, known)
        for r in found
    ]


def invoice_runs(session: Session, run_ids: Collection[int]) -> list[View]:
    """These invoice runs, in the order given."""
    found = {
        r.id: r
        for r in session.scalars(select(InvoiceSyncRun).where(InvoiceSyncRun.id.in_(run_ids)))
    }
    rows = [found[i] for i in run_ids if i in found]
    known = names(session, {r.partner_id for r in rows}, {r.program_id for r in rows})
    return [invoice_run(session, r, known) for r in rows]


# -- status ------------------------------------------------------------------------------------


def _latest(session: Session, model: type[Any], *where: Any) -> dict[tuple[int, int], Any]:
    """The newest run per partner and program (one query for the ids, one for the rows)."""
    ids = session.execute(record.newest_run_ids(model, *where)).scalars()
    rows = session.scalars(select(model).where(model.id.in_(list(ids)))).all()
    return {(r.partner_id, r.program_id): r for r in rows}


def status(
    session: Session,
    *,
    partner: Named | None,
    program: Named | None,
    budgets: dict[int, BudgetUse | str] | None = None,
) -> list[View]:
    """Per partner with a connection or program settings: the connection, and per program its
    settings, last product run, last finished invoice run and unfinished invoice runs."""
    conn_stmt = select(PsaConnection)
    settings_stmt = select(ProgramSyncSettings)
    if partner is not None:
        conn_stmt = conn_stmt.where(PsaConnection.partner_id == partner.id)
        settings_stmt = settings_stmt.where(ProgramSyncSettings.partner_id == partner.id)
    if program is not None:
        settings_stmt = settings_stmt.where(ProgramSyncSettings.program_id == program.id)
    connections = {c.partner_id: c for c in session.scalars(conn_stmt)}
    settings = session.scalars(settings_stmt).all()
    partner_ids = set(connections) | {s.partner_id for s in settings}
    if partner is not None:
        partner_ids.add(partner.id)
    known = names(session, partner_ids, {s.program_id for s in settings})
    products = _latest(session, ProductSyncRun)
    invoices = _latest(session, InvoiceSyncRun, InvoiceSyncRun.status.not_in(record.UNFINISHED))
    unfinished: dict[tuple[int, int], list[str]] = {}
    for run in session.scalars(
        select(InvoiceSyncRun)
        .where(InvoiceSyncRun.status.in_(record.UNFINISHED))
        .order_by(InvoiceSyncRun.id)
    ):
        unfinished.setdefault((run.partner_id, run.program_id), []).append(f"{run.id} {run.status}")
    views = []
    for partner_id in sorted(partner_ids, key=lambda p: (known.partner(p).name, p)):
        conn = connections.get(partner_id)
        view: View = {
            "partner": known.partner(partner_id).json(),
            "connection": (
                {
                    "status": conn.status,
                    "problem": conn.problem,
                    "message": conn.status_message,
                    "username": conn.username,
                    "tested_at": conn.tested_at,
                }
                if conn
                else None
            ),
            "programs": [],
        }
        if budgets is not None and partner_id in budgets:
            use = budgets[partner_id]
            view["request_budget"] = (
                {"used": use.used, "limit": use.limit, "window_seconds": use.window_seconds}
                if isinstance(use, BudgetUse)
                else {"unavailable": use}
            )
        mine = sorted(
            (s for s in settings if s.partner_id == partner_id),
            key=lambda s: (known.program(s.program_id).name, s.program_id),
        )
        for s in mine:
            key = (partner_id, s.program_id)
            last_product, last_invoice = products.get(key), invoices.get(key)
            view["programs"].append(
                {
                    "program": known.program(s.program_id).json(),
                    "sync_enabled": s.sync_enabled,
                    "product_sync_mode": s.product_sync_mode,
                    "sync_azure_usage": s.sync_azure_usage,
                    "billing_code": s.billing_code_name or s.billing_code_id,
                    "last_product_run": product_run(last_product, known) if last_product else None,
                    "last_invoice_run": (
                        invoice_run(session, last_invoice, known) if last_invoice else None
                    ),
                    "unfinished_invoice_runs": unfinished.get(key, []),
                }
            )
        views.append(view)
    return views


# -- preview -----------------------------------------------------------------------------------

PREVIEW_ACTIONS = {
    Action.CREATE: "create",
    Action.RECREATE: "re-create",
    Action.UPDATE_PRICE: "update price",
    Action.SKIP: "no change",
    Action.ERROR: "error",
}


def preview(plan: Plan, partner: Named, program: Named, mode: str) -> View:
    counts = {a.value: 0 for a in Action}
    for item in plan.items:
        counts[item.action.value] += 1
    return {
        "partner": partner.json(),
        "program": program.json(),
        "mode": mode,
        "counts": counts,
        "items": [
            {
                "sku": i.sku,
                "product": i.product_name,
                "action": i.action.value,
                "service_id": i.service_id,
                "service_name": i.service_name,
                "unit_price": money(i.unit_price),
                "unit_cost": money(i.unit_cost),
                "warnings": list(i.warnings),
                "message": i.message,
            }
            for i in plan.items
        ],
    }


def invoice_preview(session: Session, found: InvoicePreview) -> View:
    """An invoice sync preview: per customer and product, every adjustment and its amount."""
    invoice = found.invoice
    customers: dict[int, dict[str, Any]] = {}
    for change in found.changes:
        entry = customers.setdefault(
            change.customer_id,
            {
                "id": change.customer_id,
                "name": found.names.get(change.customer_id, ""),
                "amount": Decimal(0),
                "services": [],
            },
        )
        entry["amount"] += change.amount
        entry["services"].append(
            {
                "sku": change.sku,
                "contract_id": change.contract_id,
                "service_id": change.service_id,
                "contract_service_id": change.contract_service_id,
                "billed_through": change.until.isoformat(),
                "amount": money(change.amount),
                "adjustments": [
                    {
                        "effective": a.effective.isoformat(),
                        "unit_change": a.unit_change,
                        "units_before": a.units_before,
                        "units_after": a.units_after,
                        "unit_price": money(a.unit_price),
                        "unit_cost": money(a.unit_cost),
                        "amount": money(a.amount),
                        "cost_amount": money(a.cost_amount),
                    }
                    for a in change.adjustments
                ],
            }
        )
    shown = sorted(customers.values(), key=lambda c: (c["name"].casefold(), c["id"]))
    total = sum((c["amount"] for c in shown), Decimal(0))
    return {
        "invoice": {
            "id": invoice.id,
            "number": invoice_number(invoice.period_start, invoice.id),
            "period_start": invoice.period_start.isoformat(),
            "period_end": invoice.period_end.isoformat(),
        },
        "currency": invoice.currency,
        "amount": money(total),
        "adjustments": sum(len(s["adjustments"]) for c in shown for s in c["services"]),
        "customers": [c | {"amount": money(c["amount"])} for c in shown],
        "not_synced": [
            {
                "customer_id": n.customer_id,
                "customer": found.names.get(n.customer_id, ""),
                "sku": n.sku,
                "code": n.code,
                "message": n.message,
            }
            for n in found.not_synced
        ],
    }
