"""Benchmark (issue 7, N3; issue 17, S13): the invoice sync of N customers x M subscriptions
against the Autotask or the ConnectWise simulator, counting PSA requests against the fewest
the work needs.

    .venv/bin/python bench/sync.py [--psa autotask|connectwise|both] [--customers 40]
                                   [--subscriptions 5] [--changed 0.2] [--workers 1]
                                   [--latency 0.15-0.4]

`--psa` picks the PSA (default autotask): the same scenario runs through `AutotaskPsa` on the
Autotask simulator or through `ConnectWisePsa` on the ConnectWise simulator; `both` runs it
on each (a database of its own) and then prints their measures side by side.

Four syncs: the first invoice (every subscription is new to its contract), the next month's
(a fraction of the subscriptions change quantity mid-month), that invoice again and the first
invoice again (nothing changed: nothing may be written; re-syncing the older invoice plans to
the end of the latest one and reads as much as the latest's re-sync). For each: requests made, the minimum (one write per
change plus one query per page of rows read: 500 rows for Autotask, 1,000 for ConnectWise,
whose additions are listed per agreement, so at least one query per agreement), their
ratio, and wall time (Autotask: with the simulator's limit of 3 concurrent requests per
endpoint). `--workers` drivers share each run through the
contract-service leases: jobs are claimed 500 at a time, so extra workers speed up runs of
more than 500 contract services, and each extra driver costs one read of the contracts
while planning (only one plan is kept). Then whether a month of 1,000 customers x 10 subscriptions fits
in the PSA's hourly budget, measured or (by default) projected from the counts.

Each PSA request takes a latency drawn from `--latency` (seconds, uniform, seeded; `0` for
none): for Autotask the simulator's latency model (`SimConfig.latency`), inside the
endpoint's thread slot; for ConnectWise, whose simulator has no latency model, the bench's
HTTP client waits it before each request. Each run's wall time is printed against the
budget-limited minimum, the time the PSA's request budget allows that many requests in
(Autotask: 10,000 requests per rolling hour, requests x 0.36 s; ConnectWise publishes no
limit, its Developer Guide says more than 1,000 requests a minute will likely be limited, so
requests x 0.06 s), and their ratio (below 1: the budget, not the sync, bounds the run). The
simulators keep their records in memory, so `--customers 1000 --subscriptions 10` measures
the full size (about an hour with the default latency at 1 worker, since the first sync
sends some 10,000 requests one after another); by default the bench runs 40 x 5 and projects
to 1,000 x 10 from the counts and the measured time per request. A benchmark, not a test:
nothing here asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import contextlib
import json
import math
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

import httpx
from dramatiq.rate_limits.backends import StubBackend
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

import connectwise_client as cw
import connectwise_sim
from autotask_client import AutotaskClient, Credentials
from autotask_sim import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    SimConfig,
    serve_in_thread,
)
from autotask_sim.metadata import CONTRACTS, ID_START
from connectwise_sim.entities import AGREEMENTS
from connectwise_sim.seed import CUSTOMER_IDS, MANAGED_TYPE_ID, PRODUCT_TYPE_ID, SUBCATEGORY_ID
from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.customers import CustomerStatus
from prism_domain.invoicing import LineKind
from prism_domain.organisations import OrganisationKind
from prism_platform.db import make_sync_engine
from prism_platform.migrate import upgrade
from prism_psa.autotask import AutotaskPsa
from prism_psa.connectwise import ConnectWisePsa
from prism_psa.limits import (
    CONNECTWISE_BUDGET,
    CONNECTWISE_WINDOW_SECONDS,
    DramatiqLimiter,
    integration_key,
)
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

RECURRING_CODE_ID = 29682801
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
PSAS = ("autotask", "connectwise")


@dataclass
class Traffic:
    """Every authenticated request the sync sends, and the rows its queries' pages carry.

    `requests` counts by kind (a query of each collection, a write, a read by id); `rows`
    counts per collection read, where one listing is the least a read of it can cost."""

    page: int
    requests: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    writes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def query(self, label: str, collection: str, rows: int | None) -> None:
        with self.lock:
            self.requests[f"query {label}"] += 1
            self.rows[collection] += rows or 0

    def other(self, method: str, label: str) -> None:
        with self.lock:
            self.requests[f"{method} {label}"] += 1
            if method in ("POST", "PATCH", "PUT", "DELETE"):
                self.writes += 1

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def minimum(self) -> int:
        """One write per change, one query per page of rows of each collection read (at
        least one)."""
        reads = sum(max(1, math.ceil(n / self.page)) for n in self.rows.values())
        return self.writes + reads


class Target(Protocol):
    """One PSA's simulator as the scenario uses it."""

    name: str
    kind: str
    page: int
    hourly_budget: int
    budget_note: str
    #: How the simulator stands in for the PSA's service (its concurrency, its latency).
    serving: str
    company_id: int
    billing_code_id: int
    username: str

    def add_services(self, skus: list[str]) -> list[int]: ...
    def add_contracts(self, n: int) -> list[int]: ...
    def opener(self, traffic: Traffic) -> Callable[..., Any]: ...
    def stop(self) -> None: ...


class AutotaskTarget:
    """The Autotask simulator (its latency model, 3 concurrent requests per endpoint)."""

    name, kind, page = "Autotask", "AUTOTASK", 500
    hourly_budget = 10_000
    budget_note = "Autotask's 10,000 requests per rolling hour"
    serving = "simulator concurrency 3 per endpoint"
    company_id, billing_code_id = 175, RECURRING_CODE_ID
    username = DEFAULT_USERNAME

    def __init__(self, folder: Path, latency: tuple[float, float] | None) -> None:
        self.handle = serve_in_thread(
            "127.0.0.1",
            0,
            folder / "autotask.sqlite3",
            config=SimConfig(
                threshold_latency=False, hourly_budget=10**9, latency=latency, latency_seed=1
            ),
        )
        self.sim: Any = self.handle.sim
        self.limits = StubBackend()  # type: ignore[no-untyped-call]

    def add_services(self, skus: list[str]) -> list[int]:
        return [
            self.sim.rules.create(
                "Services",
                {
                    "name": f"PC_{sku}",
                    "billingCodeID": RECURRING_CODE_ID,
                    "periodType": 1,
                    "unitPrice": 10,
                },
            )
            for sku in skus
        ]

    def add_contracts(self, n: int) -> list[int]:
        ids = []
        with self.sim.store.transaction():
            for _ in range(n):
                record = self.sim.rules.blank(CONTRACTS)
                contract_id = self.sim.store.next_id(CONTRACTS, ID_START[CONTRACTS])
                record.update(
                    {
                        "id": contract_id,
                        "companyID": self.company_id,
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
                self.sim.store.put(CONTRACTS, record)
                ids.append(contract_id)
        return ids

    def opener(self, traffic: Traffic) -> Callable[..., AutotaskPsa]:
        def on_response(response: httpx.Response) -> None:
            path = response.request.url.path
            if "ZoneInformation" in path:
                return  # not counted by Autotask either
            response.read()
            parts = path.split("/")
            if "/query" in path.lower():  # a query, or its next page (POST .../query/next)
                entity = parts[path.lower().split("/").index("query") - 1]
                rows = None
                with contextlib.suppress(KeyError, ValueError, TypeError):
                    rows = int(json.loads(response.content)["pageDetails"]["count"])
                traffic.query(entity, entity, rows)
            else:
                traffic.other(response.request.method, parts[-1])

        def open_psa(*_: int) -> AutotaskPsa:
            client = AutotaskClient(
                Credentials(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE),
                http=httpx.Client(timeout=60, event_hooks={"response": [on_response]}),
                zone_probe_url=self.handle.url + "/ATServicesRest/",
            )
            client.limiter = DramatiqLimiter(
                self.limits,
                database_key=lambda: "bench",
                integration=integration_key(DEFAULT_INTEGRATION_CODE),
                budget=10**9,  # the budget is accounted for below, not waited out
            )
            return AutotaskPsa(client)

        return open_psa

    def stop(self) -> None:
        self.handle.stop()


class ConnectWiseTarget:
    """The ConnectWise simulator; the bench's client waits the latency before each request."""

    name, kind, page = "ConnectWise", "CONNECTWISE", cw.MAX_PAGE_SIZE
    hourly_budget = CONNECTWISE_BUDGET * 3600 // CONNECTWISE_WINDOW_SECONDS
    budget_note = (
        "Prism's ConnectWise limiter, 900 a minute, below the likely limit of 1,000 (not published)"
    )
    serving = "latency waited by the bench's client"
    company_id, billing_code_id = CUSTOMER_IDS[0], SUBCATEGORY_ID
    username = connectwise_sim.DEFAULT_COMPANY_ID

    def __init__(self, latency: tuple[float, float] | None) -> None:
        config = connectwise_sim.SimConfig()
        self.handle = connectwise_sim.serve_in_thread("127.0.0.1", 0, config=config)
        self.latency = latency
        self.random = random.Random(1)
        self.random_lock = threading.Lock()

    def credentials(self) -> cw.Credentials:
        return cw.Credentials(
            connectwise_sim.DEFAULT_COMPANY_ID,
            connectwise_sim.DEFAULT_PUBLIC_KEY,
            connectwise_sim.DEFAULT_PRIVATE_KEY,
            connectwise_sim.DEFAULT_CLIENT_ID,
        )

    def add_services(self, skus: list[str]) -> list[int]:
        """Catalog items as a person adds them on the Product Catalog screen (uncounted)."""
        with cw.ConnectWiseClient(self.credentials(), site=self.handle.url) as client:
            return [
                int(
                    client.catalog.create(
                        cw.CatalogItem(
                            identifier=f"PC_{sku}",
                            description=sku,
                            subcategory=cw.Reference.to(SUBCATEGORY_ID),
                            type=cw.Reference.to(PRODUCT_TYPE_ID),
                            price=Decimal(10),
                            cost=Decimal("8.10"),
                            recurring_flag=True,
                        )
                    ).id
                    or 0
                )
                for sku in skus
            ]

    def add_contracts(self, n: int) -> list[int]:
        """Agreements as a person makes them (the API cannot): prorating, managed services."""
        store = self.handle.sim.store
        ids = []
        for _ in range(n):
            agreement_id = store.new_id(AGREEMENTS, start=1000)
            store.put(
                AGREEMENTS,
                {
                    "id": agreement_id,
                    "name": f"Bench {agreement_id}",
                    "type": {"id": MANAGED_TYPE_ID, "name": "Managed Services"},
                    "company": {"id": self.company_id, "name": "Acme Pty Ltd"},
                    "contact": None,
                    "startDate": "2026-10-01T00:00:00Z",
                    "endDate": "2027-03-31T00:00:00Z",
                    "noEndingDateFlag": False,
                    "cancelledFlag": False,
                    "dateCancelled": None,
                    "agreementStatus": "Active",
                    "billingCycle": {"id": 2, "name": "Monthly"},
                    "billAmount": 0.0,
                    "prorateFlag": True,
                    "invoiceProratedAdditionsFlag": True,
                    "parentAgreement": None,
                },
            )
            ids.append(agreement_id)
        return ids

    def opener(self, traffic: Traffic) -> Callable[..., ConnectWisePsa]:
        def wait(_: httpx.Request) -> None:
            if self.latency is not None:
                with self.random_lock:
                    seconds = self.random.uniform(*self.latency)
                time.sleep(seconds)

        def on_response(response: httpx.Response) -> None:
            path = response.request.url.path
            if "/apis/3.0/" not in path:
                return  # the codebase look-up (login/companyinfo) needs no authentication
            response.read()
            collection = path.split("/apis/3.0/", 1)[1].strip("/")
            parts = collection.split("/")
            # Ids in the path name the record: `finance/agreements/{id}/additions`.
            label = "/".join("{id}" if s.isdigit() else s for s in parts)
            method = response.request.method
            if method == "GET" and not parts[-1].isdigit() and parts[-1] != "count":
                rows = None
                with contextlib.suppress(ValueError, TypeError):
                    rows = len(json.loads(response.content))
                traffic.query(label, collection, rows)
            else:
                traffic.other(method, label)

        def open_psa(*_: int) -> ConnectWisePsa:
            http = httpx.Client(
                timeout=60, event_hooks={"request": [wait], "response": [on_response]}
            )
            return ConnectWisePsa(
                cw.ConnectWiseClient(self.credentials(), site=self.handle.url, http=http)
            )

        return open_psa

    def stop(self) -> None:
        self.handle.stop()


def seed(
    engine: Engine, target: Target, customers: int, subscriptions: int
) -> tuple[int, int, list[int], list[str]]:
    """A partner, a program of `subscriptions` products (each with its PSA service), and
    `customers` customers each mapped to its own contract (Autotask: a Recurring Service
    contract; ConnectWise: an agreement)."""
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
                psa=target.kind,
                username=target.username,
                secret_encrypted="-",
                integration_code_encrypted="-",
                status="OK",
            )
        )
        session.add(
            ProgramSyncSettings(
                partner_id=partner.id,
                program_id=program.id,
                psa=target.kind,
                sync_enabled=True,
                billing_code_id=target.billing_code_id,
                notification_emails=[],
            )
        )
        skus = [f"BENCH-{i:03d}" for i in range(subscriptions)]
        for sku, service_id in zip(skus, target.add_services(skus), strict=True):
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
            session.add(
                ProductServiceLink(
                    partner_id=partner.id,
                    psa=target.kind,
                    program_id=program.id,
                    product_id=product.id,
                    sku=sku,
                    service_id=service_id,
                    origin="CREATED",
                )
            )
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
        contract_ids = target.add_contracts(customers)
        session.execute(
            insert(CustomerMapping),
            [
                {
                    "partner_id": partner.id,
                    "program_id": program.id,
                    "customer_id": c,
                    "psa": target.kind,
                    "company_id": target.company_id,
                    "company_name": "Contoso",
                    "contract_id": k,
                    "contract_name": f"K-{k}",
                    "sync_enabled": True,
                }
                for c, k in zip(customer_ids, contract_ids, strict=True)
            ],
        )
        return partner.id, program.id, customer_ids, skus


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
    engine: Engine, target: Target, partner: int, program: int, invoice: int, workers: int
) -> tuple[Traffic, float, str]:
    """One invoice's sync by `workers` drivers (threads), its traffic and wall time."""
    traffic = Traffic(target.page)
    open_psa = target.opener(traffic)
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


@dataclass
class Measure:
    """One sync's measures, as printed and compared."""

    label: str
    traffic: Traffic
    elapsed: float
    status: str
    hourly_budget: int

    @property
    def minimum(self) -> int:
        return self.traffic.minimum()

    @property
    def ratio(self) -> float:
        return self.traffic.total / self.minimum if self.minimum else float("nan")

    @property
    def floor(self) -> float:
        return budget_seconds(self.traffic.total, self.hourly_budget)


def budget_seconds(requests: float, hourly_budget: int) -> float:
    """The least time the PSA's rolling-hour budget allows `requests` in."""
    return requests * 3600 / hourly_budget


def report(m: Measure) -> None:
    t = m.traffic
    print(
        f"{m.label:<34} {m.status:<9} requests {t.total:>6}  minimum {m.minimum:>6}  "
        f"ratio {m.ratio:5.2f}  writes {t.writes:>6}  {m.elapsed:7.2f} s  "
        f"budget-limited {m.floor:7.1f} s  wall/budget {m.elapsed / m.floor:5.2f}"
    )
    print(f"{'':<34} {dict(sorted(t.requests.items()))}")


def scenario(target: Target, engine: Engine, args: argparse.Namespace) -> list[Measure]:
    """The four syncs on one PSA, printed as they finish; then the 1,000 x 10 projection."""
    partner, program, customers, skus = seed(engine, target, args.customers, args.subscriptions)
    n = args.customers * args.subscriptions
    print(
        f"{target.name}: {args.customers} customers x {args.subscriptions} subscriptions "
        f"({n}), {args.workers} worker(s), {target.serving}, latency "
        f"{'none' if args.latency_range is None else f'{args.latency} s per request'}"
    )
    measures: list[Measure] = []

    def run(label: str, invoice: int) -> Measure:
        measure = Measure(
            label,
            *sync(engine, target, partner, program, invoice, args.workers),
            target.hourly_budget,
        )
        report(measure)
        measures.append(measure)
        return measure

    first = issue(engine, partner, program, NOV, customers, skus, 0)
    t1 = run("first invoice (all new)", first)
    second = issue(engine, partner, program, DEC, customers, skus, args.changed)
    t2 = run(f"next month ({args.changed:.0%} changed)", second)
    t3 = run("same invoice again (no change)", second)
    print(f"re-sync with nothing changed wrote {t3.traffic.writes} (must be 0)")
    t4 = run("older invoice again (no change)", first)
    print(
        f"re-syncing the older invoice read {t4.traffic.total - t4.traffic.writes} times for "
        f"{n} contract services over 2 months of history (the latest: "
        f"{t3.traffic.total - t3.traffic.writes}); it wrote {t4.traffic.writes} (must be 0)"
    )

    # A month at 1,000 x 10: writes scale with changes, reads with rows / page.
    scale = (1000 * 10) / n
    month = t2.traffic.total * scale
    first_month = t1.traffic.total * scale
    how = "measured" if n >= 10_000 else f"projected x{scale:.0f} from this run"
    budget = target.hourly_budget
    for label, requests, m in (
        ("first sync", first_month, t1),
        (f"a month ({args.changed:.0%} changed)", month, t2),
    ):
        per_request = m.elapsed / max(m.traffic.total, 1)
        wall = requests * per_request
        print(
            f"1,000 x 10 {label}: {requests:,.0f} requests, wall "
            f"{wall / 60:,.1f} min ({how}, at this run's "
            f"{per_request * 1000:.0f} ms per request), budget-limited minimum "
            f"{budget_seconds(requests, budget) / 60:,.1f} min, ratio "
            f"{wall / budget_seconds(requests, budget):.2f}"
        )
    print(
        f"1,000 x 10: first sync {first_month:,.0f} requests, a month with "
        f"{args.changed:.0%} changed {month:,.0f} requests ({how}); budget "
        f"{budget:,}/hour ({target.budget_note}): the monthly sync "
        f"{'fits' if month <= budget else 'does NOT fit'} in one hour; "
        f"the first sync needs {math.ceil(first_month / budget)} hour(s) of "
        "budget (the limiter spreads it)"
    )
    return measures


def side_by_side(results: dict[str, list[Measure]]) -> None:
    """Each sync's measures on every PSA, one column per PSA."""
    names = list(results)
    print()
    print(f"{'side by side':<34} " + " ".join(f"{n:>26}" for n in names))
    rows: list[tuple[str, Callable[[Measure], str]]] = [
        ("status", lambda m: m.status),
        ("requests / minimum", lambda m: f"{m.traffic.total} / {m.minimum}"),
        ("ratio", lambda m: f"{m.ratio:.2f}"),
        ("writes", lambda m: str(m.traffic.writes)),
        ("wall time", lambda m: f"{m.elapsed:.2f} s"),
        ("budget-limited / wall/budget", lambda m: f"{m.floor:.1f} s / {m.elapsed / m.floor:.2f}"),
    ]
    for i, first in enumerate(results[names[0]]):
        print(first.label)
        for what, show in rows:
            print(f"  {what:<32} " + " ".join(f"{show(results[n][i]):>26}" for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--psa", choices=[*PSAS, "both"], default="autotask")
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--subscriptions", type=int, default=5)
    parser.add_argument("--changed", type=float, default=0.2, help="share changing next month")
    parser.add_argument("--workers", type=int, default=1, help="drivers sharing each run")
    parser.add_argument(
        "--latency", default="0.15-0.4", help="seconds per PSA request, LOW-HIGH or 0"
    )
    args = parser.parse_args()
    args.latency_range = None
    if args.latency not in ("0", ""):
        low, _, high = args.latency.partition("-")
        args.latency_range = (float(low), float(high or low))

    results: dict[str, list[Measure]] = {}
    for psa in PSAS if args.psa == "both" else (args.psa,):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            upgrade(url)
            engine = make_sync_engine(url)
            target: Target = (
                AutotaskTarget(Path(tmp), args.latency_range)
                if psa == "autotask"
                else ConnectWiseTarget(args.latency_range)
            )
            try:
                results[target.name] = scenario(target, engine, args)
            finally:
                target.stop()
                engine.dispose()
        print()
    if len(results) > 1:
        side_by_side(results)


if __name__ == "__main__":
    main()
