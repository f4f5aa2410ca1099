"""Tenants through the API (O1): a tenant lives under an existing customer, its domain unique
within the program."""

from __future__ import annotations

import pytest

from tests.support.catalogue import create_customer, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration


@pytest.fixture
async def setup(client: GraphQLClient, tenants: Tenants) -> dict[str, str]:
    return {
        "program": await create_program(client),
        "customer": await create_customer(client, tenants.a.gid),
    }


TENANT = """
mutation($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { domain program { name } } errors { field code } }
}
"""


async def test_tenants_live_under_a_customer_unique_per_program(
    client: GraphQLClient, tenants: Tenants, setup: dict[str, str]
) -> None:
    other_customer = await create_customer(client, tenants.b.gid)
    partner = client.as_(tenants.a.admin)
    domain = "Fabrikam.onmicrosoft.com"

    created = await partner.data(
        TENANT,
        {
            "input": {
                "customerId": setup["customer"],
                "programId": setup["program"],
                "domain": domain,
            }
        },
    )
    duplicate = await client.data(
        TENANT,
        {"input": {"customerId": other_customer, "programId": setup["program"], "domain": domain}},
    )
    foreign = await partner.data(
        TENANT,
        {
            "input": {
                "customerId": other_customer,
                "programId": setup["program"],
                "domain": "x.example",
            }
        },
    )
    viewed = await partner.data(
        "query($id: ID!) { customer(id: $id) { tenants { domain } programs { id } } }",
        {"id": setup["customer"]},
    )

    assert created["createTenant"]["errors"] == []
    assert created["createTenant"]["tenant"]["domain"] == "fabrikam.onmicrosoft.com"
    assert duplicate["createTenant"]["errors"] == [{"field": "input.domain", "code": "DUPLICATE"}]
    assert foreign["createTenant"]["errors"] == [{"field": "input.customerId", "code": "NOT_FOUND"}]
    assert viewed["customer"] == {
        "tenants": [{"domain": "fabrikam.onmicrosoft.com"}],
        "programs": [{"id": setup["program"]}],
    }
