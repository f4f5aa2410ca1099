"""Benchmark (issue 15, P3 at scale): the monthly billing run over N partners x customers x
subscriptions with mid-month changes, on PostgreSQL.

    DATABASE_URL=postgresql://... .venv/bin/python bench/billing.py
        [--partners 10] [--customers 100] [--subscriptions 10] [--changed 0.2] [--scale 10]

Runs the billing run (`prism_graph.billing.run.run_billing`, what `runBilling` calls) twice,
each time on a scratch database of its own (created on the DATABASE_URL server, migrated,
filled with bulk inserts, dropped afterwards): once with `--customers` per partner (N) and
once with `--scale` times as many (10 N). Each partner bills one program of
`--subscriptions` products, one subscription of each per customer; `--changed` of the
subscriptions change quantity on the 16th (two lines instead of one), one in 20 starts on
the 10th and one in 20 is cancelled from the 21st. Each partner has a BILLING contact, so
every invoice is also rendered to PDF and mailed (queued in the mail outbox), as in
production.

Prints for each size: invoices and lines issued, wall time, lines per second, SQL statements
per partner (the same at both sizes when they do not grow with the customers), and the peak
resident memory of the process that ran it (each size runs in a child process of its own, so
each peak is its own). Then the time ratio 10 N / N next to the size ratio. Without a
PostgreSQL DATABASE_URL it runs on a scratch SQLite file (not what the issue asks to measure).
A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from scratch import scratch_database
from sqlalchemy import Engine, event, insert, text

from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.contacts import ContactType
from prism_domain.customers import CustomerStatus
from prism_domain.organisations import OrganisationKind
from prism_domain.periods import Period
from prism_graph.billing.run import run_billing
from prism_graph.database import Database
from prism_platform.db import make_async_engine, make_sync_engine
from prism_platform.migrate import upgrade
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.contacts import AccountContact, AccountContactType, AccountContactTypeMember
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription, SubscriptionQuantity

MONTH = Period.month(2026, 10)
CHUNK = 5_000


def chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_ids(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert (one multi-row statement per chunk), the new ids in the rows' order."""
    with engine.begin() as conn:
        return list(
            conn.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
        )


def fill(engine: Engine, partners: int, customers: int, subscriptions: int, changed: float) -> int:
    """The month's data; returns how many subscriptions it made."""
    every = max(1, round(1 / changed)) if changed else 0
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [{"kind": OrganisationKind.DISTRIBUTOR, "name": "D"}])
    partner_ids = insert_ids(
        engine,
        Organisation,
        [
            {"kind": OrganisationKind.PARTNER, "name": f"Partner {p}", "domain": f"p{p}.test"}
            for p in range(partners)
        ],
    )
    program_id = insert_ids(engine, Program, [{"name": "Microsoft CSP", "currency": "AUD"}])[0]
    product_ids = insert_ids(
        engine,
        Product,
        [
            {
                "program_id": program_id,
                "sku": f"SKU-{i:03d}",
                "sku_key": f"sku-{i:03d}",
                "name": f"Product {i}",
                "name_key": f"product {i}",
                "description": "",
                "billing_term": BillingTerm.MONTHLY,
                "kind": ProductKind.LICENCE,
                "retired": False,
            }
            for i in range(subscriptions)
        ],
    )
    with engine.begin() as conn:
        conn.execute(
            insert(ProductPrice),
            [
                {
                    "product_id": pid,
                    "effective_from": date(2026, 1, 1),
                    "buy_price": Decimal("8.10"),
                    "rrp": Decimal("10.00"),
                }
                for pid in product_ids
            ],
        )
    contact_ids = insert_ids(
        engine,
        AccountContact,
        [
            {"organisation_id": p, "first_name": "Bill", "last_name": "Ing", "email": f"b@{p}.t"}
            for p in partner_ids
        ],
    )
    type_ids = insert_ids(
        engine,
        AccountContactType,
        [{"organisation_id": p, "type": ContactType.BILLING} for p in partner_ids],
    )
    with engine.begin() as conn:
        conn.execute(
            insert(AccountContactTypeMember),
            [
                {"contact_type_id": t, "contact_id": c}
                for t, c in zip(type_ids, contact_ids, strict=True)
            ],
        )
    made = 0
    for p, partner in enumerate(partner_ids):
        customer_ids = insert_ids(
            engine,
            Customer,
            [
                {
                    "owner_id": partner,
                    "name": f"Customer {p}-{c:05d}",
                    "name_key": f"customer {p}-{c:05d}",
                    "status": CustomerStatus.ACTIVE,
                }
                for c in range(customers)
            ],
        )
        subs = [(c, i, pid) for c in customer_ids for i, pid in enumerate(product_ids)]
        for batch_start in range(0, len(subs), CHUNK):
            batch = subs[batch_start : batch_start + CHUNK]
            rows = []
            for n, (c, i, pid) in enumerate(batch, start=made + batch_start):
                start = date(2026, 10, 10) if n % 20 == 7 else date(2026, 9, 1)
                cancelled = date(2026, 10, 21) if n % 20 == 13 else None
                rows.append(
                    {
                        "customer_id": c,
                        "product_id": pid,
                        "sku": f"SKU-{i:03d}",
                        "billing_term": BillingTerm.MONTHLY,
                        "start_date": start,
                        "quantity": 5,
                        "cancelled_from": cancelled,
                    }
                )
            ids = insert_ids(engine, Subscription, rows)
            history = []
            for n, (sub_id, row) in enumerate(
                zip(ids, rows, strict=True), start=made + batch_start
            ):
                history.append(
                    {
                        "subscription_id": sub_id,
                        "effective_from": row["start_date"],
                        "quantity": 5,
                        "sequence": 0,
                    }
                )
                if every and n % every == 0:
                    history.append(
                        {
                            "subscription_id": sub_id,
                            "effective_from": date(2026, 10, 16),
                            "quantity": 8,
                            "sequence": 1,
                        }
                    )
            with engine.begin() as conn:
                conn.execute(insert(SubscriptionQuantity), history)
        made += len(subs)
    with engine.connect() as conn:
        # Statistics, as a live database has them (autovacuum).
        conn.execute(text("ANALYZE"))
        conn.commit()
    return made


def rss_now_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


async def bill(url: str) -> dict[str, Any]:
    engine = make_async_engine(url)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    database = Database(engine)
    before = rss_now_kib()
    started = time.perf_counter()
    result = await run_billing(database, MONTH)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    await engine.dispose()
    return {
        "seconds": elapsed,
        "statements": statements,
        "invoices": len(result.issued),
        "errors": [e.message for e in result.errors],
        "rss_before_kib": before,
        "rss_peak_kib": peak,
    }


def child(args: argparse.Namespace) -> None:
    """One size, in a process of its own: fill, bill, print the measures as JSON."""
    with scratch_database() as url:
        upgrade(url)
        engine = make_sync_engine(url)
        started = time.perf_counter()
        subs = fill(engine, args.partners, args.customers, args.subscriptions, args.changed)
        filled = time.perf_counter() - started
        measures = asyncio.run(bill(url))
        with engine.connect() as conn:
            measures["lines"] = conn.scalar(text("SELECT count(*) FROM invoice_lines"))
            measures["mails"] = conn.scalar(text("SELECT count(*) FROM mail_messages"))
        engine.dispose()
    measures.update(subscriptions=subs, fill_seconds=filled, dialect=url.split(":")[0])
    print(json.dumps(measures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--customers", type=int, default=100, help="per partner, at N")
    parser.add_argument("--subscriptions", type=int, default=10, help="per customer")
    parser.add_argument("--changed", type=float, default=0.2, help="share changing mid-month")
    parser.add_argument("--scale", type=int, default=10, help="the second size, in N")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    runs = []
    for customers in (args.customers, args.customers * args.scale):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                f"--partners={args.partners}",
                f"--customers={customers}",
                f"--subscriptions={args.subscriptions}",
                f"--changed={args.changed}",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append((customers, json.loads(out.stdout.strip().splitlines()[-1])))
    dialect = runs[0][1]["dialect"]
    print(
        f"prism bench billing: {dialect}, {args.partners} partners x customers x "
        f"{args.subscriptions} subscriptions, {args.changed:.0%} changed mid-month, "
        "1 in 20 starting and 1 in 20 cancelled mid-month; October 2026"
    )
    print(
        f"{'customers/partner':>17} {'subs':>8} {'invoices':>8} {'lines':>8} {'fill s':>7} "
        f"{'run s':>7} {'lines/s':>8} {'stmts/partner':>13} {'peak RSS MiB':>12} "
        f"{'RSS growth MiB':>14}"
    )
    for customers, m in runs:
        print(
            f"{customers:>17} {m['subscriptions']:>8} {m['invoices']:>8} {m['lines']:>8} "
            f"{m['fill_seconds']:>7.1f} {m['seconds']:>7.2f} {m['lines'] / m['seconds']:>8.0f} "
            f"{m['statements'] / args.partners:>13.1f} {m['rss_peak_kib'] / 1024:>12.0f} "
            f"{(m['rss_peak_kib'] - m['rss_before_kib']) / 1024:>14.0f}"
        )
        if m["errors"]:
            print(f"  errors: {m['errors'][:3]}")
    (_, small), (_, big) = runs
    print(
        f"{args.scale} N / N: lines x{big['lines'] / small['lines']:.2f}, time "
        f"x{big['seconds'] / small['seconds']:.2f} (linear: the same), statements per partner "
        f"{small['statements'] / args.partners:.1f} -> {big['statements'] / args.partners:.1f}"
    )
    print(
        "Statements include the run's reads of programs and partners (spread over the partners)"
        " and each invoice's transaction. Peak RSS is the child process's maximum resident set"
        " (fill included, chunked); growth is that peak minus the RSS before the run."
    )


if __name__ == "__main__":
    main()
