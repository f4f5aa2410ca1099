"""The production topology (docker-compose.yml) as real processes: `prism graph`, `prism relay`
and `prism worker` (Dramatiq's CLI) on PostgreSQL and Redis, with the Autotask simulator as
its own process, and `prism mailer` sending to a local SMTP server. A partner connects, maps a
customer, and an invoice is synced across the processes; a failed run's notice is mailed;
the request budget the worker spends shows in the API through Redis (S1-S8, N3).

It needs Redis (separate processes share no in-process broker): it runs in `make test`'s pass
on the real services, and CI requires them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from autotask_sim import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME
from tests.integration.mail.conftest import SmtpServer
from tests.support.backends import postgres_requested, redis_requested
from tests.support.dev_system import free_port
from tests.support.identity import sign_in_request
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FABRIKAM_COMPANY, FABRIKAM_CONTRACT = 176, 29683002  # autotask_sim.seed
PASSWORD = "prism-demo-password"
ALERTS = "psa-alerts@contoso-partners.example"


class Topology:
    def __init__(self, base: str, logs: Path, smtp: SmtpServer) -> None:
        self.base = base
        self.logs = logs
        self.smtp = smtp
        self.tokens: dict[str, str] = {}

    def sign_in(self, email: str) -> None:
        body = sign_in_request(email, PASSWORD)
        data = self.ask(None, body["query"], body["variables"])
        self.tokens[email] = data["signIn"]["accessToken"]

    def ask(self, who: str | None, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )
        body = response.json()
        assert "errors" not in body, (body, self.log_tail())
        return body["data"]

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text().splitlines()[-30:])
            for p in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture
def topology(database_url: str, tmp_path: Path) -> Iterator[Topology]:
    redis_url = redis_requested()
    if redis_url is None or postgres_requested() is None:
        pytest.skip("the separate processes need PostgreSQL and Redis (make test's second pass)")
    port, sim_port = free_port(), free_port()
    smtp = SmtpServer(free_port())
    smtp.start()
    env = {k: v for k, v in os.environ.items() if k not in {"PRISM_ENV"}} | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "AUTOTASK_ZONE_PROBE_URL": f"http://127.0.0.1:{sim_port}/ATServicesRest/",
        "AUTOTASK_SIM_PORT": str(sim_port),
        "AUTOTASK_SIM_STATE": str(tmp_path / "autotask-sim.sqlite3"),
        "WORKER_PROCESSES": "1",
        "WORKER_THREADS": "2",
        "RATE_LIMIT_NAMESPACE": f"prism-topology-{port}",
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "PUBLIC_URL": "https://prism.example",
    }
    seeded = subprocess.run(
        [sys.executable, "-m", "prism_cli", "seed"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    commands = {
        "simulator": [sys.executable, "-m", "autotask_sim"],
        "graph": [sys.executable, "-m", "prism_cli", "graph"],
        "relay": [sys.executable, "-m", "prism_cli", "relay"],
        "worker": [sys.executable, "-m", "prism_cli", "worker"],
        "mailer": [sys.executable, "-m", "prism_cli", "mailer"],
    }
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        stack.callback(smtp.stop)
        for name, argv in commands.items():
            log = stack.enter_context((tmp_path / f"{name}.log").open("w"))
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Dramatiq's CLI forks: stop the whole group
            )
            stack.callback(_stop, process)

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout=60, what="prism graph to be ready")
        yield Topology(base, tmp_path, smtp)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


RUNS = """query($p: ID!) { invoiceSyncRuns(programId: $p, first: 10) { edges { node {
  trigger status customersSynced customersFailed
  customers { customer { name } outcome code subscriptions { sku outcome code } }
  reconciliation { sku invoiceUnits psaUnits matches } } } } }"""


def test_an_invoice_syncs_across_the_production_processes(topology: Topology) -> None:
    partner, distributor = "admin@contoso-partners.example", "admin@prism-distribution.example"
    topology.sign_in(partner)
    topology.sign_in(distributor)
    ask = topology.ask
    programs = ask(partner, "{ programs { id name } }")["programs"]
    program = next(p["id"] for p in programs if p["name"] == "Microsoft CSP")

    # The partner connects to Autotask, switches the program's sync on and maps Fabrikam.
    connected = ask(
        partner,
        "mutation($i: PsaCredentialsInput!) { savePsaConnection(input: $i) { errors { code } } }",
        {
            "i": {
                "username": DEFAULT_USERNAME,
                "secret": DEFAULT_SECRET,
                "integrationCode": DEFAULT_INTEGRATION_CODE,
            }
        },
    )
    assert connected["savePsaConnection"]["errors"] == []
    settings = ask(
        partner,
        "mutation($i: ProgramSyncSettingsInput!) { saveProgramSyncSettings(input: $i)"
        " { errors { code message } } }",
        {
            "i": {
                "programId": program,
                "syncEnabled": True,
                "productSyncMode": "IN_USE",
                "billingCodeId": 29682801,
                "notificationEmails": [ALERTS],
            }
        },
    )
    assert settings["saveProgramSyncSettings"]["errors"] == []
    customers = ask(
        partner,
        'query($p: ID!) { syncCustomers(programId: $p, search: "Fabrikam") { edges { node {'
        " customer { id name } } } } }",
        {"p": program},
    )["syncCustomers"]["edges"]
    fabrikam = customers[0]["node"]["customer"]["id"]
    mapped = ask(
        partner,
        "mutation($i: SaveCustomerMappingInput!) { saveCustomerMapping(input: $i)"
        " { errors { code message } } }",
        {
            "i": {
                "programId": program,
                "customerId": fabrikam,
                "companyId": FABRIKAM_COMPANY,
                "contractId": FABRIKAM_CONTRACT,
                "syncEnabled": True,
                "syncNow": False,
            }
        },
    )
    assert mapped["saveCustomerMapping"]["errors"] == []

    # The distributor bills last month: invoice.issued goes relay -> Redis -> worker. The
    # products are not in Autotask yet, so the sync fails for Fabrikam with the action (S6).
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    billed = ask(
        distributor,
        "mutation($m: String!) { runBilling(input: { month: $m }) {"
        " issued { id } errors { message } } }",
        {"m": month},
    )
    assert billed["runBilling"]["errors"] == [] and billed["runBilling"]["issued"]

    def runs() -> list[dict[str, Any]]:
        edges = ask(partner, RUNS, {"p": program})["invoiceSyncRuns"]["edges"]
        return [e["node"] for e in edges]

    wait_until(lambda: any(r["status"] == "FAILURE" for r in runs()), timeout=60, what="run 1")
    (failed,) = runs()
    fabrikam_result = next(
        c for c in failed["customers"] if c["customer"]["name"].startswith("Fab")
    )
    codes = {s["code"] for s in fabrikam_result["subscriptions"]}
    assert "PRODUCT_NOT_FOUND" in codes, failed

    # The mailer process delivers the failure notice, with the link to the run's status (S8).
    def notice() -> list[Any]:
        return [r.message for r in topology.smtp.received if ALERTS in r.rcpt_tos]

    wait_until(lambda: bool(notice()), timeout=30, what="the failure notice")
    (mail,) = notice()
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "https://prism.example/psa-sync/invoice-runs/" in body.get_content()

    # The products are synced, then the invoice again: now every unit is in the contract.
    requested = ask(
        partner,
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested errors { code } } }",
        {"p": program},
    )
    assert requested["syncProducts"]["errors"] == []

    def products_synced() -> bool:
        edges = ask(
            partner,
            "query($p: ID!) { productSyncRuns(programId: $p, first: 5) { edges { node {"
            " status } } } }",
            {"p": program},
        )["productSyncRuns"]["edges"]
        return any(e["node"]["status"] == "SUCCESS" for e in edges)

    wait_until(products_synced, timeout=60, what="the product sync")
    again = ask(
        partner,
        "mutation($i: SyncInvoicesInput!) { syncInvoices(input: $i) { requested errors { code } } }",
        {"i": {"programId": program}},
    )
    assert again["syncInvoices"]["errors"] == []
    wait_until(lambda: any(r["status"] == "SUCCESS" for r in runs()), timeout=60, what="run 2")
    synced = next(r for r in runs() if r["status"] == "SUCCESS")
    assert (synced["trigger"], synced["customersSynced"], synced["customersFailed"]) == (
        "MANUAL",
        1,
        0,
    )
    assert synced["reconciliation"] and all(r["matches"] for r in synced["reconciliation"])

    # The worker's Autotask requests were counted in Redis, and the API shows them (N3).
    budget = ask(partner, "{ psaConnection { status requestBudget { used limit } } }")
    assert budget["psaConnection"]["status"] == "OK"
    used = budget["psaConnection"]["requestBudget"]["used"]
    assert used >= len(synced["reconciliation"]), budget
