"""Benchmark (issue 6 "Performance"): a page of customers with their tenants, contacts and
subscriptions through the GraphQL API, against a hand-written SQL + JSON baseline doing the
same reads.

    .venv/bin/python bench/api_reads.py [--customers 300] [--requests 30]

Prints, for pages of 10 and 100 customers: SQL statements per request (they must not grow
with the page size) and milliseconds per request, then the GraphQL / baseline time ratio.
Runs on a scratch SQLite file by default, or on DATABASE_URL (an empty, disposable database:
it is migrated and filled). A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
from datetime import date
from typing import Any

import httpx
import strawberry
from api_reads_floor import FloorQuery, floor_objects
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from prism_domain.access import PrincipalKind, UserRole
from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.customers import CustomerStatus
from prism_domain.organisations import OrganisationKind
from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.identity.authn import bearer_token, principal_for_token
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.settings import GraphSettings
from prism_platform.db import make_async_engine, utcnow
from prism_platform.migrate import upgrade
from prism_tables.catalogue import Product, Program
from prism_tables.contacts import CustomerContact
from prism_tables.customers import Customer
from prism_tables.identity import AccessToken, User, UserStatus
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription, SubscriptionQuantity
from prism_tables.tenants import Tenant

QUERY = """
query Page($first: Int!) {
  customers(first: $first) {
    edges { node {
      id name domain status
      tenants { id domain }
      contacts { id displayName email role }
      subscriptions { id sku billingTerm startDate quantity cancelledFrom }
    } }
  }
}
"""


async def seed(database: Database, customers: int) -> str:
    """A partner with `customers` customers, each with 2 tenants, 2 contacts and 3
    subscriptions; returns a bearer token of the partner's admin."""
    from datetime import timedelta

    async with database.unit_of_work() as uow:
        s = uow.session
        partner = Organisation(
            kind=OrganisationKind.PARTNER, name="Bench MSP", domain="bench.example"
        )
        s.add_all([Organisation(kind=OrganisationKind.DISTRIBUTOR, name="Dist"), partner])
        program = Program(name="Microsoft CSP", currency="AUD")
        s.add(program)
        await s.flush()
        products = [
            Product(
                program_id=program.id,
                sku=f"SKU-{i}",
                sku_key=f"sku-{i}",
                name=f"Product {i}",
                name_key=f"product {i}",
                description="",
                billing_term=BillingTerm.MONTHLY,
                kind=ProductKind.LICENCE,
                retired=False,
            )
            for i in range(3)
        ]
        s.add_all(products)
        user = User(
            organisation_id=partner.id,
            email="admin@bench.example",
            display_name="Admin",
            role=UserRole.ADMIN,
            status=UserStatus.ACTIVE,
            password_hash=None,
        )
        s.add(user)
        await s.flush()
        token = new_token("prism_at")
        s.add(
            AccessToken(
                token_hash=token_hash(token),
                principal_kind=PrincipalKind.USER,
                user_id=user.id,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        for n in range(customers):
            c = Customer(
                owner_id=partner.id,
                name=f"Customer {n:04d}",
                name_key=f"customer {n:04d}",
                domain=f"c{n}.example",
                status=CustomerStatus.ACTIVE,
            )
            s.add(c)
            await s.flush()
            s.add_all(
                [
                    Tenant(
                        customer_id=c.id, program_id=program.id, domain=f"c{n}-{t}.onmicrosoft.com"
                    )
                    for t in range(2)
                ]
                + [
                    CustomerContact(
                        customer_id=c.id, display_name=f"Contact {k}", email=f"k{k}@c{n}.example"
                    )
                    for k in range(2)
                ]
            )
            for p in products:
                sub = Subscription(
                    customer_id=c.id,
                    product_id=p.id,
                    sku=p.sku,
                    billing_term=p.billing_term,
                    start_date=date(2026, 10, 1),
                    quantity=5,
                )
                s.add(sub)
                await s.flush()
                s.add(
                    SubscriptionQuantity(
                        subscription_id=sub.id,
                        effective_from=sub.start_date,
                        quantity=5,
                        sequence=0,
                    )
                )
        await uow.commit()
    return token


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


async def baseline_body(conn: AsyncConnection, partner_id: int, first: int) -> dict[str, Any]:
    """The same reads by hand: one statement per table, rows into dicts."""
    customers = (
        await conn.execute(
            select(Customer.id, Customer.name, Customer.domain, Customer.status)
            .where(Customer.owner_id == partner_id)
            .order_by(Customer.name_key, Customer.id)
            .limit(first + 1)
        )
    ).all()[:first]
    ids = [c.id for c in customers]
    nodes: dict[int, dict[str, Any]] = {
        c.id: {
            "id": gid("Customer", c.id),
            "name": c.name,
            "domain": c.domain,
            "status": c.status.name,
            "tenants": [],
            "contacts": [],
            "subscriptions": [],
        }
        for c in customers
    }
    for t in await conn.execute(
        select(Tenant.id, Tenant.customer_id, Tenant.domain)
        .where(Tenant.customer_id.in_(ids))
        .order_by(Tenant.id)
    ):
        nodes[t.customer_id]["tenants"].append({"id": gid("Tenant", t.id), "domain": t.domain})
    for k in await conn.execute(
        select(
            CustomerContact.id,
            CustomerContact.customer_id,
            CustomerContact.display_name,
            CustomerContact.email,
            CustomerContact.role,
        )
        .where(CustomerContact.customer_id.in_(ids))
        .order_by(CustomerContact.created_at, CustomerContact.id)
    ):
        nodes[k.customer_id]["contacts"].append(
            {
                "id": gid("CustomerContact", k.id),
                "displayName": k.display_name,
                "email": k.email,
                "role": k.role.name,
            }
        )
    for s in await conn.execute(
        select(
            Subscription.id,
            Subscription.customer_id,
            Subscription.sku,
            Subscription.billing_term,
            Subscription.start_date,
            Subscription.quantity,
            Subscription.cancelled_from,
        )
        .where(Subscription.customer_id.in_(ids))
        .order_by(Subscription.id)
    ):
        nodes[s.customer_id]["subscriptions"].append(
            {
                "id": gid("CustomerSubscription", s.id),
                "sku": s.sku,
                "billingTerm": s.billing_term.name,
                "startDate": iso(s.start_date),
                "quantity": s.quantity,
                "cancelledFrom": iso(s.cancelled_from),
            }
        )
    return {"data": {"customers": {"edges": [{"node": n} for n in nodes.values()]}}}


def baseline_app(database: Database) -> Starlette:
    """A hand-written endpoint doing what the GraphQL request does, with nothing generic: the
    same bearer-token check (one statement), the same reads, the same JSON, over the same
    in-process HTTP transport."""

    async def endpoint(request: Request) -> Response:
        token = bearer_token(request.headers.get("authorization"))
        assert token is not None
        first = int(request.query_params["first"])
        async with database.engine.connect() as conn:
            async with AsyncSession(bind=conn) as session:
                principal = await principal_for_token(session, token)
            assert principal.partner_id is not None
            body = await baseline_body(conn, principal.partner_id, first)
        return Response(json.dumps(body).encode(), media_type="application/json")

    return Starlette(routes=[Route("/customers", endpoint, methods=["POST"])])


class Counter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._on)

    def _on(self, *args: Any) -> None:
        statement = str(args[2]).strip().upper()
        if statement not in {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}:
            self.count += 1


async def timed(n: int, *calls: Any) -> list[float]:
    """Median milliseconds of each call, run in turns so that a busy machine slows them alike."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for call, times in zip(calls, samples, strict=True):
            start = time.perf_counter()
            await call()
            times.append(time.perf_counter() - start)
    return [statistics.median(times) * 1000 for times in samples]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="prism-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch.name}/bench.sqlite3"
    upgrade(url)
    engine = make_async_engine(url)
    database = Database(engine)
    token = await seed(database, args.customers)
    async with engine.begin() as conn:
        # Statistics, as a live database has them (autovacuum): without them PostgreSQL
        # plans the freshly filled tables as if they were empty.
        await conn.execute(text("ANALYZE"))
    settings = GraphSettings(database_url=url, prism_env="test", max_tokens=5000)
    app = create_app(settings, database=database, broker=StubBroker())
    floor = strawberry.Schema(query=FloorQuery)
    counter = Counter(engine)
    headers = {"Authorization": f"Bearer {token}"}
    print(
        f"prism bench: {engine.dialect.name}, {args.customers} customers, "
        f"median of {args.requests} requests"
    )
    print(
        f"{'page':>5} {'graphql stmts':>14} {'baseline stmts':>15} {'graphql ms':>11} "
        f"{'baseline ms':>12} {'ratio':>6} {'floor ms':>9} {'floor ratio':>12}"
    )
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=baseline_app(database)), base_url="http://bench"
        ) as hand_http,
    ):
        for first in (10, 100):

            async def graphql(first: int = first) -> Any:
                response = await http.post(
                    "/graphql",
                    json={"query": QUERY, "variables": {"first": first}},
                    headers=headers,
                )
                body = response.json()
                assert not body.get("errors"), body
                assert len(body["data"]["customers"]["edges"]) == first
                return body

            async def hand(first: int = first) -> Any:
                response = await hand_http.post(
                    "/customers", params={"first": first}, headers=headers
                )
                return response.json()

            # Both answer the same JSON (checked), after a warm-up.
            expected = await graphql()
            assert await hand() == expected, "the baseline must answer what GraphQL answers"
            page = floor_objects(expected)

            async def strawberry_floor(first: int = first, page: Any = page) -> None:
                result = await floor.execute(
                    QUERY, variable_values={"first": first}, context_value={"page": page}
                )
                assert not result.errors, result.errors
                json.dumps({"data": result.data})

            await strawberry_floor()
            counter.count = 0
            await graphql()
            graphql_statements = counter.count
            counter.count = 0
            await hand()
            baseline_statements = counter.count
            graphql_ms, baseline_ms, floor_ms = await timed(
                args.requests, graphql, hand, strawberry_floor
            )
            print(
                f"{first:>5} {graphql_statements:>14} {baseline_statements:>15} "
                f"{graphql_ms:>11.1f} {baseline_ms:>12.1f} {graphql_ms / baseline_ms:>6.2f} "
                f"{floor_ms:>9.1f} {floor_ms / baseline_ms:>12.2f}"
            )
    print(
        "Statements include the bearer-token lookup on both sides. The baseline is a "
        "hand-written endpoint over the same transport;\nthe floor is strawberry executing the "
        "same document over those rows in memory with no resolvers, database or HTTP."
    )
    await engine.dispose()
    scratch.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
