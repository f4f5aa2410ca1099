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
