"""What `prism sync` shows, read from the syncer's records (S7): each view is a JSON-ready
dict (printed as is with `--json`) and a function that writes it as aligned text."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prism_cli.sync.context import Named, Names, names
from prism_cli.sync.render import fields, money, table, when
from prism_graph.billing.document import invoice_number
from prism_syncer.invoices import sources
from prism_syncer.invoices.models import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from prism_syncer.invoices.sync import RunStatus
from prism_syncer.products.models import ProductSyncRun, ProductSyncRunItem
from prism_syncer.products.planning import Action, Plan
from prism_syncer.psa.limits import BudgetUse
from prism_syncer.psa.models import ProgramSyncSettings, PsaConnection

UNFINISHED = (RunStatus.PENDING.value, RunStatus.RUNNING.value)

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


def counts_text(view: View) -> str:
    c = view["counts"]
    if view["kind"] == "product":
        return (
            f"{c['products_synced']} of {c['products_considered']} products synced"
            f" ({c['created']} created, {c['updated']} updated), {c['unchanged']} unchanged,"
            f" {c['failed']} failed, {c['warnings']} warnings"
        )
    if view["status"] in UNFINISHED:
        return "under way"
    return (
        f"{c['customers_synced']} of {c['customers_considered']} customers synced,"
        f" {c['customers_failed']} failed; {c['subscriptions_synced']} subscriptions synced,"
        f" {c['adjustments_applied']} adjustments, {c['warnings']} warnings"
    )


def _named(value: dict[str, Any] | None) -> str | None:
    return f"{value['name']} (#{value['id']})" if value else None


def runs_text(views: list[View]) -> str:
    if not views:
        return "no runs"
    return table(
        ["KIND", "RUN", "PARTNER", "PROGRAM", "TRIGGER", "STATUS", "STARTED (UTC)", "SUMMARY"],
        [
            [
                v["kind"],
                v["id"],
                _named(v["partner"]),
                _named(v["program"]),
                v["trigger"],
                v["status"],
                v["started_at"],
                counts_text(v),
            ]
            for v in views
        ],
    )


def _run_fields(view: View) -> list[tuple[str, object]]:
    pairs: list[tuple[str, object]] = [
        ("partner", _named(view["partner"])),
        ("program", _named(view["program"])),
    ]
    if view["kind"] == "invoice":
        invoice = view["invoice"]
        pairs.append(
            (
                "invoice",
                f"{invoice['number']} ({invoice['period_start']} to {invoice['period_end']})"
                if invoice
                else None,
            )
        )
        pairs.append(("customer", _named(view["customer"]) or "all synced customers"))
    pairs += [
        ("trigger", view["trigger"]),
        ("started", when(view["started_at"])),
        ("finished", when(view["finished_at"])),
        ("counts", counts_text(view)),
        ("message", view["message"]),
    ]
    return pairs


def run_header(view: View) -> str:
    title = f"{view['kind'].capitalize()} sync run {view['id']}: {view['status']}"
    return title + "\n" + fields(_run_fields(view), indent="  ")


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


def product_run_text(view: View) -> str:
    parts = [run_header(view)]
    if view["items"]:
        parts.append(
            table(
                [
                    "SKU",
                    "PRODUCT",
                    "ACTION",
                    "OUTCOME",
                    "SERVICE",
                    "ID",
                    "PRICE",
                    "COST",
                    "MESSAGE",
                ],
                [
                    [
                        i["sku"],
                        i["product"],
                        i["action"],
                        i["outcome"],
                        i["service_name"],
                        i["service_id"],
                        i["unit_price"],
                        i["unit_cost"],
                        i["message"],
                    ]
                    for i in view["items"]
                ],
            )
        )
    return "\n\n".join(parts)


def invoice_run_detail(session: Session, run: InvoiceSyncRun) -> View:
    view = invoice_run(session, run, names(session, [run.partner_id], [run.program_id]))
    items = session.scalars(
        select(InvoiceSyncRunItem)
        .where(InvoiceSyncRunItem.run_id == run.id)
        .order_by(InvoiceSyncRunItem.customer_name, InvoiceSyncRunItem.id)
    ).all()
    checks = session.scalars(
        select(InvoiceSyncReconciliation)
        .where(InvoiceSyncReconciliation.run_id == run.id)
        .order_by(
            InvoiceSyncReconciliation.customer_id,
            InvoiceSyncReconciliation.sku,
            InvoiceSyncReconciliation.as_of,
        )
    ).all()
    customer_names = {i.customer_id: i.customer_name for i in items}
    # A customer's own item has neither subscription nor SKU (a SKU-less line has sku "").
    view["customers"] = [
        {
            "customer": Named(i.customer_id, i.customer_name).json(),
            "outcome": i.outcome,
            "code": i.code,
            "message": i.message,
        }
        for i in items
        if i.subscription_id is None and i.sku is None
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
        for i in items
        if not (i.subscription_id is None and i.sku is None)
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


def invoice_run_text(view: View) -> str:
    parts = [run_header(view)]
    if view["customers"]:
        parts.append(
            "Customers\n"
            + table(
                ["CUSTOMER", "OUTCOME", "CODE", "MESSAGE"],
                [
                    [_named(c["customer"]), c["outcome"], c["code"], c["message"]]
                    for c in view["customers"]
                ],
            )
        )
    if view["subscriptions"]:
        parts.append(
            "Subscriptions\n"
            + table(
                [
                    "CUSTOMER",
                    "SUBSCRIPTION",
                    "SKU",
                    "PERIOD",
                    "QUANTITY",
                    "COST",
                    "PRICE",
                    "CONTRACT",
                    "OUTCOME",
                    "CODE",
                    "MESSAGE",
                ],
                [
                    [
                        s["customer"]["name"],
                        s["subscription_id"],
                        s["sku"] or None,
                        f"{s['period_start']} to {s['period_end']}" if s["period_start"] else None,
                        s["quantity"],
                        s["unit_cost"],
                        s["unit_price"],
                        s["contract_id"],
                        s["outcome"],
                        s["code"],
                        s["message"],
                    ]
                    for s in view["subscriptions"]
                ],
            )
        )
    if view["reconciliation"]:
        parts.append(
            "Reconciliation: invoice units vs Autotask units\n"
            + table(
                [
                    "CUSTOMER",
                    "SKU",
                    "CONTRACT",
                    "CONTRACT SERVICE",
                    "AS OF",
                    "INVOICE",
                    "AUTOTASK",
                    "MATCH",
                ],
                [
                    [
                        r["customer"]["name"],
                        r["sku"],
                        r["contract_id"],
                        r["contract_service_id"],
                        r["as_of"],
                        r["invoice_units"],
                        "unknown" if r["psa_units"] is None else r["psa_units"],
                        r["matches"],
                    ]
                    for r in view["reconciliation"]
                ],
            )
        )
    return "\n\n".join(parts)


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
    ids = session.execute(
        select(func.max(model.id)).where(*where).group_by(model.partner_id, model.program_id)
    ).scalars()
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
    invoices = _latest(session, InvoiceSyncRun, InvoiceSyncRun.status.not_in(UNFINISHED))
    unfinished: dict[tuple[int, int], list[str]] = {}
    for run in session.scalars(
        select(InvoiceSyncRun)
        .where(InvoiceSyncRun.status.in_(UNFINISHED))
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


def _run_line(view: View | None) -> str | None:
    if view is None:
        return None
    return f"#{view['id']} {view['status']} at {when(view['started_at'])}: {counts_text(view)}"


def status_text(views: list[View]) -> str:
    if not views:
        return "no partner has a PSA connection or program sync settings"
    blocks = []
    for v in views:
        conn = v["connection"]
        pairs: list[tuple[str, object]] = [
            (
                "connection",
                "not connected"
                if conn is None
                else " ".join(
                    p
                    for p in (
                        conn["status"],
                        f"({conn['problem']})" if conn["problem"] else "",
                        f"as {conn['username']}",
                        f"tested {when(conn['tested_at'])}" if conn["tested_at"] else "",
                        f"- {conn['message']}" if conn["message"] else "",
                    )
                    if p
                ),
            )
        ]
        if "request_budget" in v:
            b = v["request_budget"]
            pairs.append(
                (
                    "request budget",
                    b.get("unavailable")
                    or f"{b['used']} of {b['limit']} requests in the last {b['window_seconds']} s",
                )
            )
        lines = [_named(v["partner"]) or "", fields(pairs, indent="  ")]
        if not v["programs"]:
            lines.append("  no program sync settings")
        for p in v["programs"]:
            lines.append(f"  {_named(p['program'])}")
            lines.append(
                fields(
                    [
                        ("sync", "on" if p["sync_enabled"] else "off"),
                        ("product mode", p["product_sync_mode"]),
                        ("Azure usage", "on" if p["sync_azure_usage"] else "off"),
                        ("billing code", p["billing_code"]),
                        ("last product run", _run_line(p["last_product_run"])),
                        ("last invoice run", _run_line(p["last_invoice_run"])),
                        (
                            "unfinished invoice runs",
                            ", ".join(p["unfinished_invoice_runs"]) or "none",
                        ),
                    ],
                    indent="    ",
                )
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


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


def preview_text(view: View) -> str:
    c = view["counts"]
    title = (
        f"Product sync preview for {_named(view['partner'])}, {_named(view['program'])}"
        f" (mode {view['mode']}): nothing was written"
    )
    summary = (
        f"would create {c['CREATE']}, re-create {c['RECREATE']}, update the prices of"
        f" {c['UPDATE_PRICE']}; {c['SKIP']} unchanged, {c['ERROR']} errors"
    )
    if not view["items"]:
        return f"{title}\n\nno products to sync\n{summary}"
    rows = [
        [
            i["sku"],
            i["product"],
            PREVIEW_ACTIONS[Action(i["action"])],
            i["service_name"],
            i["service_id"],
            i["unit_price"],
            i["unit_cost"],
            " ".join([*i["warnings"], *([i["message"]] if i["message"] else [])]) or None,
        ]
        for i in view["items"]
    ]
    return "\n\n".join(
        [
            title,
            table(["SKU", "PRODUCT", "ACTION", "SERVICE", "ID", "PRICE", "COST", "NOTE"], rows),
            summary,
        ]
    )
