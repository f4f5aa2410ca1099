"""Benchmark (issue 7, N3): the invoice sync of N customers x M subscriptions against the
Autotask simulator, counting Autotask requests against the fewest the work needs.

    .venv/bin/python bench/sync.py [--customers 40] [--subscriptions 5] [--changed 0.2]
                                   [--workers 1] [--latency 0.15-0.4]

Four syncs: the first invoice (every subscription is new to its contract), the next month's
(a fraction of the subscriptions change quantity mid-month), that invoice again and the first
invoice again (nothing changed: nothing may be written; re-syncing the older invoice plans to
the end of the latest one and reads as much as the latest's re-sync). For each: requests made, the minimum (one write per
change plus one query per 500 rows read), their ratio, and wall time with the simulator's
limit of 3 concurrent requests per endpoint. `--workers` drivers share each run through the
contract-service leases: jobs are claimed 500 at a time, so extra workers speed up runs of
more than 500 contract services, and each extra driver costs one read of the contracts
while planning (only one plan is kept). Then whether a month of 1,000 customers x 10 subscriptions fits
in Autotask's 10,000 requests per hour, measured or (by default) projected from the counts.

Each Autotask request takes a latency drawn from `--latency` (seconds, uniform, seeded; the
simulator's latency model, `SimConfig.latency`; `0` for none), inside the endpoint's thread
slot. Each run's wall time is printed against the budget-limited minimum, the time Autotask's
10,000 requests per rolling hour allow that many requests (requests x 0.36 s), and their
ratio (below 1: the budget, not the sync, bounds the run). The simulator keeps its records in
memory indexed by the fields queries filter on, so its cost per request no longer grows with
the data: `--customers 1000 --subscriptions 10` measures the full size (about an hour with
the default latency at 1 worker, since the first sync sends some 10,000 requests one after
another); by default the bench runs 40 x 5 and projects to 1,000 x 10 from the counts and the
measured time per request. A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import contextlib
import json
import math
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from dramatiq.rate_limits.backends import StubBackend
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from autotask_client import AutotaskClient, Credentials
from autotask_sim import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    SimConfig,
    serve_in_thread,
)
from autotask_sim.metadata import CONTRACTS, ID_START
from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.customers import CustomerStatus
from prism_domain.invoicing import LineKind
from prism_domain.organisations import OrganisationKind
from prism_platform.db import make_sync_engine
from prism_platform.migrate import upgrade
from prism_psa.autotask import AutotaskPsa
from prism_psa.limits import DramatiqLimiter, integration_key
from prism_syncer.invoices.sync import InvoiceSync, start_run
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.catalogue import Product, Program
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.sync.connections import (
    CustomerMapping,
    ProgramSyncSettings,
    PsaConnection,
)
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductServiceLink

PAGE = 500
HOURLY_BUDGET = 10_000
RECURRING_CODE_ID = 29682801
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


@dataclass
class Traffic:
    """Every authenticated request the sync sends, and the rows its query pages carry."""

    requests: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    writes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_response(self, response: httpx.Response) -> None:
        path = response.request.url.path
        if "ZoneInformation" in path:
            return  # not counted by Autotask either
        response.read()
        with self.lock:
            if "/query" in path.lower():  # a query, or its next page (POST .../query/next)
                entity = path.split("/")[path.lower().split("/").index("query") - 1]
                self.requests[f"query {entity}"] += 1
                with contextlib.suppress(KeyError, ValueError, TypeError):
                    self.rows[entity] += int(json.loads(response.content)["pageDetails"]["count"])
            else:
                self.requests[f"{response.request.method} {path.split('/')[-1]}"] += 1
                if response.request.method in ("POST", "PATCH", "PUT"):
                    self.writes += 1

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def minimum(self) -> int:
        """One write per change, one query per 500 rows of each kind read (at least one)."""
        reads = sum(
            max(1, math.ceil(self.rows[entity] / PAGE))
            for entity in {k.split(" ", 1)[1] for k in self.requests if k.startswith("query ")}
        )
        return self.writes + reads


def seed(
    engine: Engine, sim: Any, customers: int, subscriptions: int
) -> tuple[int, int, list[int], list[str]]:
    """A partner, a program of `subscriptions` products (each with its PSA service), and
    `customers` customers each mapped to its own Recurring Service contract."""
    with Session(engine) as session, session.begin():
        partner = Organisation(
            kind=OrganisationKind.PARTNER, name="Bench MSP", domain=f"{uuid.uuid4().hex[:8]}.test"
        )
        program = Program(name=f"Bench CSP {uuid.uuid4().hex[:6]}", currency="AUD")
        session.add_all([partner, program])
        session.flush()
        session.add(
            PsaConnection(
                partner_id=partner.id,
                username=DEFAULT_USERNAME,
                secret_encrypted="-",
                integration_code_encrypted="-",
                status="OK",
            )
        )
        session.add(
            ProgramSyncSettings(
                partner_id=partner.id,
                program_id=program.id,
                sync_enabled=True,
                billing_code_id=RECURRING_CODE_ID,
                notification_emails=[],
            )
        )
        skus = []
        for i in range(subscriptions):
            sku = f"BENCH-{i:03d}"
            product = Product(
                program_id=program.id,
                sku=sku,
                sku_key=sku.casefold(),
                name=sku,
                name_key=sku.casefold(),
                description="",
                billing_term=BillingTerm.MONTHLY,
                kind=ProductKind.LICENCE,
                retired=False,
            )
            session.add(product)
            session.flush()
            service_id = sim.rules.create(
                "Services",
                {
                    "name": f"PC_{sku}",
                    "billingCodeID": RECURRING_CODE_ID,
                    "periodType": 1,
                    "unitPrice": 10,
                },
            )
            session.add(
                ProductServiceLink(
                    partner_id=partner.id,
                    program_id=program.id,
                    product_id=product.id,
                    sku=sku,
                    service_id=service_id,
                    origin="CREATED",
                )
            )
            skus.append(sku)
        customer_ids = []
        for i in range(customers):
            customer = Customer(
                owner_id=partner.id,
                name=f"Customer {i:05d}",
                name_key=f"customer {i:05d}",
                status=CustomerStatus.ACTIVE,
            )
            session.add(customer)
            session.flush()
            customer_ids.append(customer.id)
        contract_ids = add_contracts(sim, customers)
        session.execute(
            insert(CustomerMapping),
            [
                {
                    "partner_id": partner.id,
                    "program_id": program.id,
                    "customer_id": c,
                    "psa": "AUTOTASK",
                    "company_id": 175,
                    "company_name": "Contoso",
                    "contract_id": k,
                    "contract_name": f"K-{k}",
                    "sync_enabled": True,
                }
                for c, k in zip(customer_ids, contract_ids, strict=True)
            ],
        )
        return partner.id, program.id, customer_ids, skus


def add_contracts(sim: Any, n: int) -> list[int]:
    ids = []
    with sim.store.transaction():
        for _ in range(n):
            record = sim.rules.blank(CONTRACTS)
            contract_id = sim.store.next_id(CONTRACTS, ID_START[CONTRACTS])
            record.update(
                {
                    "id": contract_id,
                    "companyID": 175,
                    "contractName": f"Bench {contract_id}",
                    "contractType": 7,
                    "contractCategory": 1,
                    "contractPeriodType": 1,
                    "status": 1,
                    # Short contracts keep the simulator's unit rows (one per month) few.
                    "startDate": "2026-10-01T00:00:00",
                    "endDate": "2027-03-31T00:00:00",
                    "isDefaultContract": False,
                }
            )
            sim.store.put(CONTRACTS, record)
            ids.append(contract_id)
    return ids


def issue(
    engine: Engine,
    partner: int,
    program: int,
    month: date,
    customers: list[int],
    skus: list[str],
    changed: float,
) -> int:
    """One line per subscription; `changed` of them change quantity on the 15th."""
    end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    mid = month.replace(day=15)
    every = max(1, round(1 / changed)) if changed else 0
    rows = []
    n = 0
    for c in customers:
        for sku in skus:
            base = 5
            if every and n % every == 0:
                rows.append((c, sku, base, month, mid - timedelta(days=1)))
                rows.append((c, sku, base + 2, mid, end))
            else:
                rows.append((c, sku, base, month, end))
            n += 1
    with Session(engine) as session, session.begin():
        invoice = Invoice(
            key=uuid.uuid4().hex,
            partner_id=partner,
            program_id=program,
            period_start=month,
            period_end=end,
            currency="AUD",
            total=Decimal(0),
        )
        session.add(invoice)
        session.flush()
        session.execute(
            insert(InvoiceLine),
            [
                {
                    "invoice_id": invoice.id,
                    "position": i,
                    "customer_id": c,
                    "sku": sku,
                    "kind": LineKind.SUBSCRIPTION,
                    "billing_term": BillingTerm.MONTHLY,
                    "period_start": start,
                    "period_end": stop,
                    "quantity": Decimal(q),
                    "unit_cost": Decimal("8.10"),
                    "unit_price": Decimal("9.00"),
                    "amount": Decimal(0),
                    "description": "",
                }
                for i, (c, sku, q, start, stop) in enumerate(rows)
            ],
        )
        return invoice.id


def sync(
    engine: Engine, url: str, partner: int, program: int, invoice: int, workers: int
) -> tuple[Traffic, float, str]:
    """One invoice's sync by `workers` drivers (threads), its traffic and wall time."""
    traffic = Traffic()
    limits = StubBackend()  # type: ignore[no-untyped-call]

    def open_psa(*_: int) -> AutotaskPsa:
        client = AutotaskClient(
            Credentials(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE),
            http=httpx.Client(timeout=60, event_hooks={"response": [traffic.on_response]}),
            zone_probe_url=url + "/ATServicesRest/",
        )
        client.limiter = DramatiqLimiter(
            limits,
            database_key=lambda: "bench",
            integration=integration_key(DEFAULT_INTEGRATION_CODE),
            budget=10**9,  # the budget is accounted for below, not waited out
        )
        return AutotaskPsa(client)

    with Session(engine) as session, session.begin():
        run_id = start_run(
            session, partner_id=partner, program_id=program, trigger="MANUAL", invoice_id=invoice
        ).id
    started = time.perf_counter()
    drivers = [InvoiceSync(engine, open_psa=open_psa) for _ in range(workers)]
    threads = [threading.Thread(target=d.drive, args=(run_id,)) for d in drivers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drivers[0].drive(run_id)  # records the run if a helper finished last
    elapsed = time.perf_counter() - started
    with Session(engine) as session:
        run = session.get(InvoiceSyncRun, run_id)
        status = run.status if run else "?"
    return traffic, elapsed, status


def budget_seconds(requests: float) -> float:
    """The least time Autotask's rolling-hour budget allows `requests` in."""
    return requests * 3600 / HOURLY_BUDGET


def report(label: str, traffic: Traffic, elapsed: float, status: str) -> None:
    minimum = traffic.minimum()
    ratio = traffic.total / minimum if minimum else float("nan")
    floor = budget_seconds(traffic.total)
    print(
        f"{label:<34} {status:<9} requests {traffic.total:>6}  minimum {minimum:>6}  "
        f"ratio {ratio:5.2f}  writes {traffic.writes:>6}  {elapsed:7.2f} s  "
        f"budget-limited {floor:7.1f} s  wall/budget {elapsed / floor:5.2f}"
    )
    print(f"{'':<34} {dict(sorted(traffic.requests.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--subscriptions", type=int, default=5)
    parser.add_argument("--changed", type=float, default=0.2, help="share changing next month")
    parser.add_argument("--workers", type=int, default=1, help="drivers sharing each run")
    parser.add_argument(
        "--latency", default="0.15-0.4", help="seconds per Autotask request, LOW-HIGH or 0"
    )
    args = parser.parse_args()
    latency = None
    if args.latency not in ("0", ""):
        low, _, high = args.latency.partition("-")
        latency = (float(low), float(high or low))

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade(url)
        engine = make_sync_engine(url)
        handle = serve_in_thread(
            "127.0.0.1",
            0,
            Path(tmp) / "autotask.sqlite3",
            config=SimConfig(
                threshold_latency=False, hourly_budget=10**9, latency=latency, latency_seed=1
            ),
        )
        try:
            partner, program, customers, skus = seed(
                engine, handle.sim, args.customers, args.subscriptions
            )
            n = args.customers * args.subscriptions
            print(
                f"{args.customers} customers x {args.subscriptions} subscriptions ({n}), "
                f"{args.workers} worker(s), simulator concurrency 3 per endpoint, latency "
                f"{'none' if latency is None else f'{latency[0]}-{latency[1]} s per request'}"
            )
            first = issue(engine, partner, program, NOV, customers, skus, 0)
            t1 = sync(engine, handle.url, partner, program, first, args.workers)
            report("first invoice (all new)", *t1)
            second = issue(engine, partner, program, DEC, customers, skus, args.changed)
            t2 = sync(engine, handle.url, partner, program, second, args.workers)
            report(f"next month ({args.changed:.0%} changed)", *t2)
            t3 = sync(engine, handle.url, partner, program, second, args.workers)
            report("same invoice again (no change)", *t3)
            print(f"re-sync with nothing changed wrote {t3[0].writes} (must be 0)")
            t4 = sync(engine, handle.url, partner, program, first, args.workers)
            report("older invoice again (no change)", *t4)
            print(
                f"re-syncing the older invoice read {t4[0].total - t4[0].writes} times for "
                f"{n} contract services over 2 months of history (the latest: "
                f"{t3[0].total - t3[0].writes}); it wrote {t4[0].writes} (must be 0)"
            )

            # A month at 1,000 x 10: writes scale with changes, reads with rows / 500.
            scale = (1000 * 10) / n
            month = t2[0].total * scale
            first_month = t1[0].total * scale
            measured = n >= 10_000
            how = "measured" if measured else f"projected x{scale:.0f} from this run"
            for label, requests, run in (
                ("first sync", first_month, t1),
                (f"a month ({args.changed:.0%} changed)", month, t2),
            ):
                per_request = run[1] / max(run[0].total, 1)
                wall = requests * per_request
                print(
                    f"1,000 x 10 {label}: {requests:,.0f} requests, wall "
                    f"{wall / 60:,.1f} min ({how}, at this run's "
                    f"{per_request * 1000:.0f} ms per request), budget-limited minimum "
                    f"{budget_seconds(requests) / 60:,.1f} min, ratio "
                    f"{wall / budget_seconds(requests):.2f}"
                )
            print(
                f"1,000 x 10: first sync {first_month:,.0f} requests, a month with "
                f"{args.changed:.0%} changed {month:,.0f} requests ({how}); budget "
                f"{HOURLY_BUDGET:,}/hour: the monthly sync "
                f"{'fits' if month <= HOURLY_BUDGET else 'does NOT fit'} in one hour; "
                f"the first sync needs {math.ceil(first_month / HOURLY_BUDGET)} hour(s) of "
                "budget (the limiter spreads it)"
            )
        finally:
            handle.stop()
            engine.dispose()


if __name__ == "__main__":
    main()
