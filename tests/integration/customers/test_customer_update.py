"""Updating customers through the API (O1): name, domain, status forward only, tenancy."""

from __future__ import annotations

import pytest

from tests.support.catalogue import create_customer
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { name domain status } errors { field code } }
}
"""


async def test_a_partner_updates_its_customer(client: GraphQLClient, tenants: Tenants) -> None:
    customer = await create_customer(client, tenants.a.gid, "Fabrikam")
    partner = client.as_(tenants.a.admin)

    data = await partner.data(
        UPDATE,
        {
            "input": {
                "id": customer,
                "name": "Fabrikam, Inc.",
                "domain": "Fabrikam.example",
                "status": "IN_PROGRESS",
            }
        },
    )

    assert data["updateCustomer"] == {
        "customer": {
            "name": "Fabrikam, Inc.",
            "domain": "fabrikam.example",
            "status": "IN_PROGRESS",
        },
        "errors": [],
    }


async def test_status_never_goes_back_and_names_stay_unique(
    client: GraphQLClient, tenants: Tenants
) -> None:
    customer = await create_customer(client, tenants.a.gid, "Fabrikam")
    await create_customer(client, tenants.a.gid, "Litware")
    await client.data(UPDATE, {"input": {"id": customer, "status": "ACTIVE"}})

    back = await client.data(UPDATE, {"input": {"id": customer, "status": "PROSPECT"}})
    clash = await client.data(UPDATE, {"input": {"id": customer, "name": "LITWARE"}})
    blank = await client.data(UPDATE, {"input": {"id": customer, "name": " "}})

    assert back["updateCustomer"]["errors"] == [{"field": "input.status", "code": "INVALID"}]
    assert clash["updateCustomer"]["errors"] == [{"field": "input.name", "code": "DUPLICATE"}]
    assert blank["updateCustomer"]["errors"] == [{"field": "input.name", "code": "REQUIRED"}]


async def test_another_partners_customer_is_not_found(
    client: GraphQLClient, tenants: Tenants
) -> None:
    customer = await create_customer(client, tenants.a.gid, "Fabrikam")

    data = await client.as_(tenants.b.admin).data(UPDATE, {"input": {"id": customer, "name": "X"}})

    assert data["updateCustomer"] == {
        "customer": None,
        "errors": [{"field": "input.id", "code": "NOT_FOUND"}],
    }
