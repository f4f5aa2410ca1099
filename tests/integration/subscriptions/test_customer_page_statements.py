"""A page of customers with tenants, contacts and subscriptions costs a fixed number of SQL
statements, whatever its size (ADR-6, issue 6 "Performance")."""

from __future__ import annotations

import pytest

from prism_graph.database import Database
from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.sql import count_statements

pytestmark = pytest.mark.integration

PAGE = """
query($first: Int!) { customers(first: $first) { edges { node {
  name tenants { domain program { name } } contacts { email }
  subscriptions { sku quantity quantityHistory { quantity } product { name } }
} } } }
"""


async def test_statements_do_not_grow_with_the_page(
    client: GraphQLClient, tenants: Tenants, database: Database
) -> None:
    program = await create_program(client)
    product = await create_product(client, program, sku="M365-BB")
    for n in range(12):
        customer = await create_customer(client, tenants.a.gid, f"Customer {n:02d}")
        await client.data(
            "mutation($input: CreateTenantInput!) { createTenant(input: $input) { errors { code } } }",
            {"input": {"customerId": customer, "programId": program, "domain": f"c{n}.example"}},
        )
        await client.data(
            "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
            " errors { code } } }",
            {
                "input": {
                    "customerId": customer,
                    "productId": product,
                    "quantity": n + 1,
                    "startDate": "2026-10-01",
                }
            },
        )

    with count_statements(database.engine) as small:
        two = await client.data(PAGE, {"first": 2})
    with count_statements(database.engine) as large:
        twelve = await client.data(PAGE, {"first": 12})

    assert len(two["customers"]["edges"]) == 2 and len(twelve["customers"]["edges"]) == 12
    assert twelve["customers"]["edges"][11]["node"]["subscriptions"][0]["quantity"] == 12
    assert large.count == small.count


BENCH_PAGE = """
query($first: Int!) { customers(first: $first) { edges { node {
  id name domain status
  tenants { id domain }
  contacts { id displayName email role }
  subscriptions { id sku billingTerm startDate quantity cancelledFrom }
} } } }
"""

ONE = """
query($id: ID!) { customer(id: $id) {
  id name domain status
  tenants { id domain }
  contacts { id displayName email role }
  subscriptions { id sku billingTerm startDate quantity cancelledFrom }
} }
"""


async def test_a_page_with_its_children_costs_five_statements_and_matches_one_by_one(
    client: GraphQLClient, tenants: Tenants, database: Database
) -> None:
    """Issue 6: the token, the page, and one statement each for tenants, contacts and
    subscriptions; the rows are exactly those each customer shows on its own."""
    program = await create_program(client)
    products = [await create_product(client, program, sku=f"SKU-{n}") for n in range(2)]
    partner = client.as_(tenants.a.admin)
    for n in range(3):
        customer = await create_customer(partner, tenants.a.gid, f"Page {n}")
        for t in range(n):
            await partner.data(
                "mutation($input: CreateTenantInput!) { createTenant(input: $input) {"
                " errors { code } } }",
                {"input": {"customerId": customer, "programId": program, "domain": f"c{n}-{t}.ex"}},
            )
        for k in range(2 - n % 2):
            await partner.data(
                "mutation($input: AddCustomerContactInput!) { addCustomerContact(input: $input)"
                " { errors { code } } }",
                {
                    "input": {
                        "customerId": customer,
                        "displayName": f"Contact {k}",
                        "email": f"k{k}@page{n}.example",
                    }
                },
            )
        for product in products[: n + 1]:
            await partner.data(
                "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
                " errors { code } } }",
                {
                    "input": {
                        "customerId": customer,
                        "productId": product,
                        "quantity": n + 2,
                        "startDate": "2026-10-01",
                    }
                },
            )
    # Another partner's customer, with children, never shows up on A's page.
    other = await create_customer(client, tenants.b.gid, "Page B")
    await client.data(
        "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
        " errors { code } } }",
        {
            "input": {
                "customerId": other,
                "productId": products[0],
                "quantity": 1,
                "startDate": "2026-10-01",
            }
        },
    )

    with count_statements(database.engine) as log:
        page = await partner.data(BENCH_PAGE, {"first": 10})
    one_by_one = [
        (await partner.data(ONE, {"id": edge["node"]["id"]}))["customer"]
        for edge in page["customers"]["edges"]
    ]

    nodes = [edge["node"] for edge in page["customers"]["edges"]]
    assert log.count == 5, log.statements
    assert [n["name"] for n in nodes] == ["Page 0", "Page 1", "Page 2"]
    assert nodes == one_by_one
    assert [len(n["tenants"]) for n in nodes] == [0, 1, 2]
    assert [len(n["contacts"]) for n in nodes] == [2, 1, 2]
    assert [[s["sku"] for s in n["subscriptions"]] for n in nodes] == [
        ["SKU-0"],
        ["SKU-0", "SKU-1"],
        ["SKU-0", "SKU-1"],
    ]
