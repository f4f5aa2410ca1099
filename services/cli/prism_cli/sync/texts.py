"""`prism sync`'s views written as aligned text (without `--json`)."""

from __future__ import annotations

from typing import Any

from prism_cli.sync.render import fields, table, when
from prism_cli.sync.views import PREVIEW_ACTIONS, View
from prism_psa import history as record
from prism_psa.products.planning import Action


def counts_text(view: View) -> str:
    c = view["counts"]
    if view["kind"] == "product":
        return (
            f"{c['products_synced']} of {c['products_considered']} products synced"
            f" ({c['created']} created, {c['updated']} updated), {c['unchanged']} unchanged,"
            f" {c['failed']} failed, {c['warnings']} warnings"
        )
    if view["status"] in record.UNFINISHED:
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


def invoice_preview_text(view: View) -> str:
    invoice = view["invoice"]
    title = (
        f"Invoice sync preview of {invoice['number']} ({invoice['period_start']} to "
        f"{invoice['period_end']}): nothing was written"
    )
    rows = [
        [
            c["name"],
            s["sku"],
            a["effective"],
            f"{a['unit_change']:+d}",
            f"{a['units_before']} -> {a['units_after']}",
            a["unit_price"],
            a["amount"],
        ]
        for c in view["customers"]
        for s in c["services"]
        for a in s["adjustments"]
    ]
    totals = [[c["name"], c["amount"]] for c in view["customers"]]
    summary = (
        f"{view['adjustments']} adjustments for {len(view['customers'])} customers, "
        f"{view['amount']} {view['currency']} in all (prorated by days, through the last "
        "invoiced day)"
    )
    parts = [title]
    if rows:
        parts.append(table(["CUSTOMER", "SKU", "FROM", "CHANGE", "UNITS", "PRICE", "AMOUNT"], rows))
        parts.append(table(["CUSTOMER", f"TOTAL ({view['currency']})"], totals))
    else:
        parts.append("Autotask already holds what the invoices say: nothing to write")
    if view["not_synced"]:
        parts.append(
            table(
                ["CUSTOMER", "SKU", "NOT SYNCED"],
                [[n["customer"], n["sku"], n["message"]] for n in view["not_synced"]],
            )
        )
    parts.append(summary)
    return "\n\n".join(parts)
