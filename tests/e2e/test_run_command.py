"""What `make run` starts (`prism dev`): the whole system in one process on the embedded default,
serving GraphQL with the demo data. Started as a real process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectwise_sim.seed import AGREEMENT_ID, SECOND_AGREEMENT_ID
from prism_graph.demo import DEMO_PASSWORD
from tests.support.dev_system import running_dev
from tests.support.identity import access_token, sign_in_request
from tests.support.metrics import sample, value
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One `prism dev` process for the module's tests (each start costs seconds)."""
    with running_dev(tmp_path_factory.mktemp("prism-dev")) as system:
        yield system.base, system.database


def test_run_serves_graphql_with_demo_customers(running_system: tuple[str, Path]) -> None:
    base, db = running_system

    headers: dict[str, str] = {}

    def post(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200
        return dict(response.json())

    assert post("{ __typename }") == {"data": {"__typename": "Query"}}
    signed_in = post(**sign_in_request("admin@prism-distribution.example", DEMO_PASSWORD))
    headers["Authorization"] = "Bearer " + access_token(signed_in)
    body = post("{ customers(first: 50) { totalCount edges { node { name owner { name } } } } }")
    customers = body["data"]["customers"]  # type: ignore[index]
    names = {e["node"]["name"] for e in customers["edges"]}
    assert {"Fabrikam, Inc.", "Wide World Importers", "Blue Yonder Airlines"} <= names

    graphiql = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()

    # The demo customers' events went through the relay and were handled by the syncer.
    def all_handled() -> bool:
        import sqlite3

        with sqlite3.connect(db) as conn:
            (n,) = conn.execute(
                "SELECT count(*) FROM sync_processed_events WHERE type = 'customer.created'"
            ).fetchone()
        return int(n) == customers["totalCount"]  # type: ignore[index]

    wait_until(all_handled, timeout=20, what="the demo events to be handled")


def test_run_points_the_psa_connection_at_the_local_simulator(
    running_system: tuple[str, Path],
) -> None:
    """S1 in development: the simulator's documented credentials pass the connection test."""
    from autotask_sim.config import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME

    base, _ = running_system
    signed_in = httpx.post(
        f"{base}/graphql",
        json=sign_in_request("admin@contoso-partners.example", DEMO_PASSWORD),
        timeout=10,
    ).json()
    token = access_token(signed_in)
    tested = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($i: PsaCredentialsInput!) { testPsaConnection(input: $i) "
            "{ ok zoneUrl errors { code message } } }",
            "variables": {
                "i": {
                    "username": DEFAULT_USERNAME,
                    "secret": DEFAULT_SECRET,
                    "integrationCode": DEFAULT_INTEGRATION_CODE,
                }
            },
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    result = tested["data"]["testPsaConnection"]
    assert result["errors"] == [] and result["ok"] is True, tested
    assert result["zoneUrl"].startswith("http://127.0.0.1:")


DEMO_SYNC_QUERY = """
query($program: ID!) {
  invoiceSyncOverview(programId: $program) {
    lastSuccessfulAt inProgress errors lastRun { id }
  }
  invoiceSyncRuns(programId: $program, first: 10) {
    edges { node {
      id trigger status customersSynced customersFailed subscriptionsSynced adjustmentsApplied
      summary invoice { number }
      customers { customer { name } outcome subscriptions { sku quantity outcome } }
      reconciliation { customerId sku asOf invoiceUnits psaUnits matches }
    } }
  }
  productSyncRuns(programId: $program, first: 10) {
    edges { node { trigger status created updated } }
  }
}
"""


def test_run_syncs_the_demo_invoice_into_the_simulator(running_system: tuple[str, Path]) -> None:
    """Issue 7 "It must show": the demo partner's invoice, with a mid-month change, lands in
    the local simulator; the API shows the history, status and reconciliation, and the
    price-change warning arrived in the mail sink (S3, S5, S7, S8)."""
    base, db = running_system
    ask = _signed_in(base, "admin@contoso-partners.example")

    programs = ask("{ programs { id name } }")["programs"]
    program = next(p["id"] for p in programs if p["name"] == "Microsoft CSP")

    # invoice.issued, or the safety check the relay stages at start if it gets there first:
    # either way the invoice is synced by exactly one run (S5, S10).
    whole_invoice = {"INVOICE_ISSUED", "SAFETY_CHECK"}

    def synced() -> bool:
        data = ask(DEMO_SYNC_QUERY, {"program": program})
        runs = [e["node"] for e in data["invoiceSyncRuns"]["edges"]]
        return any(r["trigger"] in whole_invoice and r["status"] == "SUCCESS" for r in runs)

    wait_until(synced, timeout=60, what="the demo invoice to be synced")
    data = ask(DEMO_SYNC_QUERY, {"program": program})
    runs = [e["node"] for e in data["invoiceSyncRuns"]["edges"]]
    (run,) = [r for r in runs if r["trigger"] in whole_invoice and r["invoice"]]
    assert (run["customersSynced"], run["customersFailed"]) == (2, 0)
    assert run["adjustmentsApplied"] >= 3 and run["invoice"]["number"].startswith("INV-")
    outcomes = {c["customer"]["name"]: c["outcome"] for c in run["customers"]}
    assert outcomes["Fabrikam, Inc."] == outcomes["Tailspin Toys"] == "SUCCESS", outcomes
    assert outcomes.get("Adventure Works Cycles", "NOT_MAPPED") != "SUCCESS"  # never mapped
    # The reconciliation: every customer's invoice units equal the simulator's, the mid-month
    # change included (Fabrikam's Microsoft 365 seats move to 30 on the 16th).
    rows = run["reconciliation"]
    assert rows and all(r["matches"] and r["invoiceUnits"] == r["psaUnits"] for r in rows)
    assert any(r["asOf"].endswith("-16") and r["invoiceUnits"] == 30 for r in rows)
    overview = data["invoiceSyncOverview"]
    assert overview["lastSuccessfulAt"] and overview["errors"] == 0
    assert overview["lastRun"] is not None

    # The price rise the demo makes after its product sync: a PRICE_CHANGED run and its mail.
    def price_synced() -> bool:
        products = ask(DEMO_SYNC_QUERY, {"program": program})["productSyncRuns"]["edges"]
        return any(e["node"]["trigger"] == "PRICE_CHANGED" for e in products)

    wait_until(price_synced, timeout=30, what="the price change to be synced")
    products = [
        e["node"] for e in ask(DEMO_SYNC_QUERY, {"program": program})["productSyncRuns"]["edges"]
    ]
    assert {(p["trigger"], p["status"]) for p in products} >= {
        ("MANUAL", "SUCCESS"),
        ("PRICE_CHANGED", "SUCCESS"),
    }

    def mail_list() -> str:
        env = {**os.environ, "MAIL_SINK_DIR": str(db.parent / "mail")}
        return subprocess.run(
            [sys.executable, "-m", "prism_cli", "mail", "list"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    wait_until(lambda: "prices changed" in mail_list(), timeout=30, what="the price mail")
    received = mail_list()
    warning = received[received.index("prices changed") :]
    assert "psa-alerts@contoso-partners.example" in warning.split("    id ")[0]
    assert "Invoice INV-" in received and "accounts@contoso-partners.example" in received

    # The worker's mail links to the API as this `prism dev` serves it (S8): its own port.
    mail_id = warning.split("    id ")[1].split()[0]
    shown = subprocess.run(
        [sys.executable, "-m", "prism_cli", "mail", "show", mail_id],
        env={**os.environ, "MAIL_SINK_DIR": str(db.parent / "mail")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    links = shown.split("-- links (1) --")[1].split("--")[0].split()
    assert links[0].startswith(f"{base}/psa-sync/product-runs/"), shown
    page = httpx.get(links[0], timeout=10)  # and the link opens a page
    assert page.status_code == 200 and "Product sync run" in page.text


def test_run_syncs_the_second_demo_partner_into_the_connectwise_simulator(
    running_system: tuple[str, Path],
) -> None:
    """Issue 17 (S13): Northwind MSP, the second demo partner, syncs the same program to the
    local ConnectWise simulator; once the worker has run, the simulator's agreements hold
    additions that bill, day by day, what Northwind's invoice bills."""
    base, db = running_system
    ask = _signed_in(base, "admin@northwind-msp.example")
    programs = ask("{ programs { id name } }")["programs"]
    program = next(p["id"] for p in programs if p["name"] == "Microsoft CSP")
    whole_invoice = {"INVOICE_ISSUED", "SAFETY_CHECK"}

    def runs() -> list[dict[str, Any]]:
        data = ask(DEMO_SYNC_QUERY, {"program": program})
        return [e["node"] for e in data["invoiceSyncRuns"]["edges"]]

    wait_until(
        lambda: any(r["trigger"] in whole_invoice and r["status"] == "SUCCESS" for r in runs()),
        timeout=60,
        what="the ConnectWise demo invoice to be synced",
    )
    (run,) = [r for r in runs() if r["trigger"] in whole_invoice and r["invoice"]]
    assert (run["customersSynced"], run["customersFailed"]) == (2, 0), run
    assert {c["customer"]["name"] for c in run["customers"]} == {
        "Wide World Importers",
        "Litware, Inc.",
    }

    # Given what the invoice bills each mapped customer for each product, day by day...
    expected, period = _northwind_invoice_units(db, run["invoice"]["number"])
    assert {agreement for agreement, _ in expected} == {AGREEMENT_ID, SECOND_AGREEMENT_ID}
    # ... when the simulator's additions are read the way ConnectWise bills them ...
    log = (db.parent / "dev.log").read_text()
    site = log.split("ConnectWise   simulator at ")[1].split()[0]
    held = _connectwise_units(site, {agreement for agreement, _ in expected}, period)
    # ... then they bill the same units on every day of the invoice's period.
    for (agreement, item), units in expected.items():
        assert held.get((agreement, item)) == units, (agreement, item)


def _northwind_invoice_units(
    db: Path, number: str
) -> tuple[dict[tuple[int, int], list[int]], tuple[date, date]]:
    """(agreement, catalog item) -> the units Northwind's invoice of the month `number` names
    (INV-yyyymm-...) bills on each day, through the customers' mappings and the products'
    links."""
    import sqlite3

    month = f"{number[4:8]}-{number[8:10]}-01"
    with sqlite3.connect(db) as conn:
        invoice, start, end = conn.execute(
            "SELECT i.id, i.period_start, i.period_end FROM invoices i "
            "JOIN organisations o ON o.id = i.partner_id "
            "WHERE o.name = 'Northwind MSP' AND i.period_start = ?",
            (month,),
        ).fetchone()
        lines = conn.execute(
            "SELECT m.contract_id, s.service_id, l.period_start, l.period_end, l.quantity "
            "FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id "
            "JOIN sync_customer_mappings m ON m.customer_id = l.customer_id "
            "AND m.partner_id = i.partner_id AND m.program_id = i.program_id "
            "JOIN sync_product_services s ON s.partner_id = i.partner_id "
            "AND s.program_id = i.program_id AND s.sku = l.sku "
            "WHERE i.id = ? AND l.kind = 'SUBSCRIPTION'",
            (invoice,),
        ).fetchall()
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    units: dict[tuple[int, int], list[int]] = {}
    for agreement, item, line_start, line_end, quantity in lines:
        row = units.setdefault((int(agreement), int(item)), [0] * len(days))
        for i, day in enumerate(days):
            if date.fromisoformat(line_start) <= day <= date.fromisoformat(line_end):
                row[i] += int(float(quantity))
    return units, (first, last)


def _connectwise_units(
    site: str, agreements: set[int], period: tuple[date, date]
) -> dict[tuple[int, int], list[int]]:
    """(agreement, catalog item) -> the units the agreement's additions bill on each day:
    an addition counts from its effective date to the day before its cancelled date."""
    from connectwise_client import ConnectWiseClient, Credentials
    from connectwise_sim import (
        DEFAULT_CLIENT_ID,
        DEFAULT_COMPANY_ID,
        DEFAULT_PRIVATE_KEY,
        DEFAULT_PUBLIC_KEY,
    )

    first, last = period
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    units: dict[tuple[int, int], list[int]] = {}
    keys = Credentials(
        DEFAULT_COMPANY_ID, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY, DEFAULT_CLIENT_ID
    )
    with ConnectWiseClient(keys, site=site) as client:
        for agreement in agreements:
            for addition in client.agreements.additions(agreement).list():
                assert addition.product is not None and addition.effective_date is not None
                row = units.setdefault((agreement, int(addition.product.id or 0)), [0] * len(days))
                for i, day in enumerate(days):
                    stop = addition.cancelled_date
                    if addition.effective_date <= day and (stop is None or day < stop):
                        row[i] += int(addition.quantity or 0)
    return units


def _signed_in(base: str, email: str) -> Any:
    token = access_token(
        httpx.post(f"{base}/graphql", json=sign_in_request(email, DEMO_PASSWORD), timeout=10).json()
    )

    def ask(query: str, variables: dict[str, object] | None = None) -> dict[str, Any]:
        body = httpx.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert "errors" not in body, body
        return dict(body["data"])

    return ask


def test_run_shows_the_metrics_of_every_part_on_the_api(running_system: tuple[str, Path]) -> None:
    """One process: the API's /metrics has the relay's, the worker's and the mailer's too."""
    base, _ = running_system

    def scraped() -> str:
        response = httpx.get(f"{base}/metrics", timeout=10)
        assert response.status_code == 200
        return response.text

    def synced() -> bool:
        return value(scraped(), "prism_sync_runs_total", kind="invoice", status="SUCCESS") >= 1

    wait_until(synced, timeout=60, what="the demo invoice's sync in the metrics")
    text = scraped()
    assert value(text, "dramatiq_messages_total", actor_name="invoice.issued") >= 1
    assert value(text, "prism_outbox_publish_lag_seconds_count") >= 1
    assert sample(text, "prism_outbox_unsent_events") is not None
    assert sample(text, "prism_dead_letters") == 0
    assert value(text, "prism_autotask_requests_total") > 0
    assert sample(text, "prism_mail_messages", status="FAILED") == 0
    assert value(text, "prism_graphql_request_duration_seconds_count") >= 1


def test_billing_the_month_before_the_demo_month_keeps_the_demo_months_units(
    running_system: tuple[str, Path],
) -> None:
    """Issue 12 case 4 on the demo data: the distributor bills the month before the demo's
    billed month after it; that invoice's sync writes its own month and leaves the demo
    month's units equal to its invoice (they used to double: 25 -> 50, 8 -> 16)."""
    base, _ = running_system
    msp = _signed_in(base, "admin@contoso-partners.example")
    distributor = _signed_in(base, "admin@prism-distribution.example")
    program = next(
        p["id"] for p in msp("{ programs { id name } }")["programs"] if p["name"] == "Microsoft CSP"
    )

    def runs() -> list[dict[str, Any]]:
        return [
            e["node"]
            for e in msp(DEMO_SYNC_QUERY, {"program": program})["invoiceSyncRuns"]["edges"]
        ]

    wait_until(
        lambda: any(r["status"] == "SUCCESS" for r in runs()), timeout=60, what="the demo sync"
    )
    (demo,) = [r for r in runs() if r["invoice"] and r["status"] == "SUCCESS"][:1]
    number = demo["invoice"]["number"]  # INV-yyyymm-...
    demo_month = date(int(number[4:8]), int(number[8:10]), 1)
    earlier = (demo_month - timedelta(days=1)).replace(day=1)

    billed = distributor(
        "mutation($m: String!) { runBilling(input: { month: $m }) {"
        " issued { id } errors { message } } }",
        {"m": f"{earlier:%Y-%m}"},
    )["runBilling"]
    assert billed["errors"] == [] and billed["issued"], billed
    earlier_number = f"INV-{earlier:%Y%m}"

    def earlier_synced() -> dict[str, Any] | None:
        done = [
            r
            for r in runs()
            if r["invoice"]
            and r["invoice"]["number"].startswith(earlier_number)
            and r["status"] not in ("PENDING", "RUNNING")
        ]
        return done[0] if done else None

    wait_until(lambda: earlier_synced() is not None, timeout=60, what="the earlier month's sync")
    run = earlier_synced()
    assert run is not None and run["status"] == "SUCCESS", run
    rows = run["reconciliation"]
    # Every stretch checked (from its month to the end of the demo month) matches.
    assert rows and all(r["matches"] for r in rows), rows
    again = msp(
        "mutation($input: SyncInvoicesInput!) { syncInvoices(input: $input) { errors { message } } }",
        {"input": {"programId": program}},
    )
    assert again["syncInvoices"]["errors"] == []

    def latest_resynced() -> dict[str, Any] | None:
        manual = [
            r
            for r in runs()
            if r["trigger"] == "MANUAL" and r["status"] not in ("PENDING", "RUNNING")
        ]
        return manual[0] if manual else None

    wait_until(lambda: latest_resynced() is not None, timeout=60, what="the re-sync")
    resync = latest_resynced()
    assert resync is not None and resync["status"] == "NO_CHANGE", resync
    assert resync["invoice"]["number"] == number  # the demo month: still its invoice's units


def test_run_prints_every_address_it_serves(running_system: tuple[str, Path]) -> None:
    base, db = running_system
    log = (db.parent / "dev.log").read_text()
    banner = log[log.index("Prism is running:") :]
    port = base.rsplit(":", 1)[1]
    assert f"GraphQL API   {base}/graphql" in banner and f"PORT={port}" in banner
    assert f"GraphiQL      {base}/graphql" in banner
    assert f"every mailed link starts with {base} (PUBLIC_URL)" in banner
    assert f"metrics {base}/metrics" in banner
    assert "mail sink     SMTP on 127.0.0.1:" in banner and "prism mail show ID" in banner
    simulator = banner.split("simulator at ")[1].split()[0]
    assert httpx.get(simulator.rstrip("/") + "/ATServicesRest/", timeout=10).status_code < 500
    assert "(AUTOTASK_SIM_PORT;" in banner


def test_dev_help_lists_the_variable_of_each_port() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "prism_cli", "dev", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("HOST, PORT", "SMTP_PORT", "AUTOTASK_SIM_PORT", "PUBLIC_URL", "PORTAL_URL"):
        assert f"  {name}" in shown
    from prism_cli.dev import DevSettings
    from prism_graph.mail.settings import MailSettings
    from prism_graph.settings import GraphSettings

    def default(settings: type[Any], name: str) -> object:
        return settings.model_fields[name].default

    host, port = default(GraphSettings, "host"), default(GraphSettings, "port")
    assert f"[{host}, {port}]" in shown and f"[{default(MailSettings, 'smtp_port')}]" in shown
    assert f"[{default(DevSettings, 'autotask_sim_port')}]" in shown
