"""The children of a page are read one statement per kind of child, by statements built
once per scope and reused across requests (issue 6 "Performance",
`prism_graph.common.loaders`): reuse never carries one caller's scope over to another (T3),
and a page costs five statements whatever its size, the first time and every time, for
every caller."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest

from prism_domain.access import Scope
from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.customers import CustomerStatus
from prism_graph.common.loaders import load_together
from prism_graph.context import Loaders
from prism_graph.database import Database
from prism_tables.catalogue import Product, Program
from prism_tables.contacts import CustomerContact
from prism_tables.customers import Customer
from prism_tables.subscriptions import Subscription
from prism_tables.tenants import Tenant
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.sql import count_statements

pytestmark = pytest.mark.integration

PAGE = """
query($first: Int!) { customers(first: $first) { edges { node {
  id name
  tenants { id domain }
  contacts { id email }
  subscriptions { id sku quantity }
} } } }
"""


@dataclass
class Children:
    """What each customer has, by customer id: tenant domains, contact emails, skus."""

    tenants: dict[int, list[str]] = field(default_factory=dict)
    contacts: dict[int, list[str]] = field(default_factory=dict)
    subscriptions: dict[int, list[str]] = field(default_factory=dict)


async def add_customers(database: Database, owner_id: int, count: int) -> Children:
    """`count` customers of `owner_id`, each with two tenants, two contacts and a subscription
    (random names, so that no row can be mistaken for another partner's)."""
    children = Children()
    async with database.unit_of_work() as uow:
        s = uow.session
        program = Program(name=f"Program {uuid.uuid4().hex[:8]}", currency="AUD")
        s.add(program)
        await s.flush()
        sku = f"SKU-{uuid.uuid4().hex[:8]}"
        product = Product(
            program_id=program.id,
            sku=sku,
            sku_key=sku.lower(),
            name=sku,
            name_key=sku.lower(),
            description="",
            billing_term=BillingTerm.MONTHLY,
            kind=ProductKind.LICENCE,
            retired=False,
        )
        s.add(product)
        await s.flush()
        for _ in range(count):
            tag = uuid.uuid4().hex[:10]
            customer = Customer(
                owner_id=owner_id,
                name=f"Customer {tag}",
                name_key=f"customer {tag}",
                domain=f"{tag}.example",
                status=CustomerStatus.ACTIVE,
            )
            s.add(customer)
            await s.flush()
            domains = [f"{tag}-{t}.onmicrosoft.com" for t in range(2)]
            emails = [f"k{k}@{tag}.example" for k in range(2)]
            s.add_all(
                [Tenant(customer_id=customer.id, program_id=program.id, domain=d) for d in domains]
                + [
                    CustomerContact(customer_id=customer.id, display_name=e, email=e)
                    for e in emails
                ]
                + [
                    Subscription(
                        customer_id=customer.id,
                        product_id=product.id,
                        sku=sku,
                        billing_term=BillingTerm.MONTHLY,
                        start_date=date(2026, 10, 1),
                        quantity=3,
                    )
                ]
            )
            children.tenants[customer.id] = domains
            children.contacts[customer.id] = emails
            children.subscriptions[customer.id] = [sku]
        await uow.commit()
    return children


async def children_seen(database: Database, scope: Scope, ids: list[int]) -> Children:
    """What a request of `scope` reads for the customers `ids`, all three read together."""
    reader = database.reader()
    try:
        loaders = Loaders(reader, scope)
        wanted = [
            loaders.tenants_by_customer,
            loaders.customer_contacts_by_customer,
            loaders.subscriptions_by_customer,
        ]
        with count_statements(database.engine) as log:
            await load_together(reader, ids, wanted)
            tenants, contacts, subscriptions = [await loader.load_many(ids) for loader in wanted]
        assert log.count == 3, log.statements  # one read each, the loaders primed with them
    finally:
        await reader.close()
    return Children(
        tenants={i: [r.domain for r in rows] for i, rows in zip(ids, tenants, strict=True)},
        contacts={i: [r.email for r in rows] for i, rows in zip(ids, contacts, strict=True)},
        subscriptions={
            i: [r.sku for r in rows] for i, rows in zip(ids, subscriptions, strict=True)
        },
    )


async def tenants_seen_alone(
    database: Database, scope: Scope, ids: list[int]
) -> dict[int, list[str]]:
    """What a request of `scope` reads through one loader on its own (its own statement)."""
    reader = database.reader()
    try:
        rows = await Loaders(reader, scope).tenants_by_customer.load_many(ids)
    finally:
        await reader.close()
    return {i: [r.domain for r in found] for i, found in zip(ids, rows, strict=True)}


def only(children: Children, ids: set[int], all_ids: list[int]) -> Children:
    """`children` as a caller who may see the customers `ids` of `all_ids` reads them."""
    return Children(
        *(
            {i: (rows[i] if i in ids else []) for i in all_ids}
            for rows in (children.tenants, children.contacts, children.subscriptions)
        )
    )


def merged(*parts: Children) -> Children:
    return Children(
        tenants={k: v for p in parts for k, v in p.tenants.items()},
        contacts={k: v for p in parts for k, v in p.contacts.items()},
        subscriptions={k: v for p in parts for k, v in p.subscriptions.items()},
    )


async def test_reused_statements_still_filter_by_each_callers_scope(
    database: Database, tenants: Tenants
) -> None:
    # Given two partners' customers with children
    of_a = await add_customers(database, tenants.a.id, 2)
    of_b = await add_customers(database, tenants.b.id, 2)
    everything = merged(of_a, of_b)
    ids = sorted(everything.tenants)
    a_ids, b_ids = set(of_a.tenants), set(of_b.tenants)
    one_customer = min(b_ids)
    callers = [
        (Scope(partner_id=tenants.a.id), a_ids),
        (Scope(partner_id=tenants.b.id), b_ids),
        (Scope(customer_id=one_customer), {one_customer}),
        (Scope(all_partners=True, distributor_id=tenants.distributor.id), a_ids | b_ids),
    ]

    # When each caller asks for every customer's children, twice in turn, in one process
    # (the second round reuses the statements the first one built)
    for _ in range(2):
        for scope, visible in callers:
            # Then each sees the children of its own customers only, on both paths
            assert await children_seen(database, scope, ids) == only(everything, visible, ids)
            assert await tenants_seen_alone(database, scope, ids) == {
                i: (everything.tenants[i] if i in visible else []) for i in ids
            }

    # And a request without a scope sees nothing
    assert await children_seen(database, Scope(), ids) == only(everything, set(), ids)


async def test_a_page_costs_five_statements_every_time_for_every_caller(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    # Given two partners with customers
    of_a = await add_customers(database, tenants.a.id, 3)
    of_b = await add_customers(database, tenants.b.id, 3)

    # When each partner reads pages of its customers with their children, in turns
    for _ in range(2):
        for org, own in ((tenants.a, of_a), (tenants.b, of_b)):
            for first in (1, 3):
                with count_statements(database.engine) as log:
                    data = await anonymous.as_(org.admin).data(PAGE, {"first": first})

                # Then the page costs the token, the page and one read per kind of child,
                # and shows only the partner's own customers with their own children
                assert log.count == 5, log.statements
                nodes = [edge["node"] for edge in data["customers"]["edges"]]
                assert len(nodes) == first
                for node in nodes:
                    customer_id = int(base64.b64decode(node["id"]).decode().split(":")[1])
                    assert [t["domain"] for t in node["tenants"]] == own.tenants[customer_id]
                    assert [c["email"] for c in node["contacts"]] == own.contacts[customer_id]
                    assert [s["sku"] for s in node["subscriptions"]] == (
                        own.subscriptions[customer_id]
                    )


async def test_pages_of_10_and_100_cost_the_same_five_statements(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    # Given a partner with a hundred customers, each with children
    own = await add_customers(database, tenants.a.id, 100)

    # When the partner reads a page of 10 and a page of 100 with their children
    counts = {}
    for first in (10, 100):
        with count_statements(database.engine) as log:
            data = await anonymous.as_(tenants.a.admin).data(PAGE, {"first": first})
        counts[first] = log.count

    # Then both cost the token, the page and one read per kind of child
    assert counts == {10: 5, 100: 5}
    # And the page of 100 shows every customer with its own children
    nodes = [edge["node"] for edge in data["customers"]["edges"]]
    assert len(nodes) == 100
    for node in nodes:
        customer_id = int(base64.b64decode(node["id"]).decode().split(":")[1])
        assert [t["domain"] for t in node["tenants"]] == own.tenants[customer_id]
        assert [c["email"] for c in node["contacts"]] == own.contacts[customer_id]
        assert [s["sku"] for s in node["subscriptions"]] == own.subscriptions[customer_id]
