"""Editing and removing tenants through the API (issue 14, O1): a tenant's domain can be
corrected (still unique within its program); a tenant can be removed, except the customer's
last one in a program it still has live subscriptions in. Other partners' tenants read as
missing, and a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

CREATE = """
mutation($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { id domain } errors { field code } }
}"""
UPDATE = """
mutation($input: UpdateTenantInput!) {
  updateTenant(input: $input) { tenant { id domain program { name } } errors { field code message } }
}"""
REMOVE = """
mutation($input: RemoveTenantInput!) {
  removeTenant(input: $input) { removedId errors { field code message } }
}"""
TENANTS = "query($id: ID!) { node(id: $id) { ... on Customer { tenants { domain } } } }"


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def tenant(client: GraphQLClient, customer: str, program: str, domain: str) -> str:
    made = await client.data(
        CREATE, {"input": {"customerId": customer, "programId": program, "domain": domain}}
    )
    assert made["createTenant"]["errors"] == []
    tenant_id: str = made["createTenant"]["tenant"]["id"]
    return tenant_id


async def domains(client: GraphQLClient, customer: str) -> list[str]:
    data = await client.data(TENANTS, {"id": customer})
    return sorted(t["domain"] for t in data["node"]["tenants"])


@pytest.fixture
async def world(client: GraphQLClient, tenants: Tenants) -> dict[str, str]:
    program = await create_program(client)
    customer = await create_customer(client, tenants.a.gid)
    b_customer = await create_customer(client, tenants.b.gid)
    return {
        "program": program,
        "customer": customer,
        "tenant": await tenant(client, customer, program, "fabrikam.onmicrosoft.com"),
        "taken": await tenant(client, customer, program, "fabrikam-eu.onmicrosoft.com"),
        "b_tenant": await tenant(client, b_customer, program, "litware.onmicrosoft.com"),
        "b_customer": b_customer,
    }


async def test_a_tenants_domain_is_corrected_and_stays_unique(
    client: GraphQLClient, tenants: Tenants, world: dict[str, str]
) -> None:
    partner = client.as_(tenants.a.admin)

    changed = await partner.data(
        UPDATE, {"input": {"id": world["tenant"], "domain": " Fabrikam-US.onmicrosoft.com. "}}
    )
    taken = await partner.data(
        UPDATE, {"input": {"id": world["tenant"], "domain": "fabrikam-eu.onmicrosoft.com"}}
    )
    invalid = await partner.data(UPDATE, {"input": {"id": world["tenant"], "domain": "not valid"}})
    empty = await partner.data(UPDATE, {"input": {"id": world["tenant"], "domain": " "}})
    foreign = await partner.data(
        UPDATE, {"input": {"id": world["b_tenant"], "domain": "x.example"}}
    )
    wrong_type = await partner.data(
        UPDATE, {"input": {"id": world["customer"], "domain": "x.example"}}
    )

    assert changed["updateTenant"]["errors"] == []
    assert changed["updateTenant"]["tenant"]["domain"] == "fabrikam-us.onmicrosoft.com"
    assert codes(taken["updateTenant"]) == [("input.domain", "DUPLICATE")]
    assert codes(invalid["updateTenant"]) == [("input.domain", "INVALID")]
    assert codes(empty["updateTenant"]) == [("input.domain", "REQUIRED")]
    assert foreign == wrong_type
    assert codes(foreign["updateTenant"]) == [("input.id", "NOT_FOUND")]
    assert await domains(client, world["customer"]) == [
        "fabrikam-eu.onmicrosoft.com",
        "fabrikam-us.onmicrosoft.com",
    ]
    assert await domains(client, world["b_customer"]) == ["litware.onmicrosoft.com"]


async def test_a_tenant_is_removed_unless_it_carries_live_subscriptions(
    client: GraphQLClient, tenants: Tenants, world: dict[str, str]
) -> None:
    partner = client.as_(tenants.a.admin)
    product = await create_product(client, world["program"], sku="M365-BP")
    subscribed = await partner.data(
        """mutation($input: CreateSubscriptionInput!) {
          createSubscription(input: $input) { subscription { id } errors { code } } }""",
        {
            "input": {
                "customerId": world["customer"],
                "productId": product,
                "quantity": 3,
                "startDate": "2026-11-01",
            }
        },
    )
    subscription = subscribed["createSubscription"]["subscription"]["id"]

    # One of two tenants in the program may go; then the last one is refused.
    first = await partner.data(REMOVE, {"input": {"id": world["taken"]}})
    last = await partner.data(REMOVE, {"input": {"id": world["tenant"]}})
    foreign = await partner.data(REMOVE, {"input": {"id": world["b_tenant"]}})

    assert first["removeTenant"] == {"removedId": world["taken"], "errors": []}
    assert codes(last["removeTenant"]) == [("input.id", "NOT_ALLOWED")]
    assert "1 subscription(s)" in last["removeTenant"]["errors"][0]["message"]
    assert codes(foreign["removeTenant"]) == [("input.id", "NOT_FOUND")]
    assert await domains(client, world["customer"]) == ["fabrikam.onmicrosoft.com"]
    assert await domains(client, world["b_customer"]) == ["litware.onmicrosoft.com"]

    # Once the subscription is cancelled, the last tenant can go too.
    cancelled = await partner.data(
        """mutation($input: CancelSubscriptionInput!) {
          cancelSubscription(input: $input) { errors { field code message } } }""",
        {"input": {"id": subscription, "cancelledFrom": "2026-11-01"}},
    )
    assert cancelled["cancelSubscription"]["errors"] == []
    removed = await partner.data(REMOVE, {"input": {"id": world["tenant"]}})
    again = await partner.data(REMOVE, {"input": {"id": world["tenant"]}})

    assert removed["removeTenant"]["errors"] == []
    assert codes(again["removeTenant"]) == [("input.id", "NOT_FOUND")]
    assert await domains(client, world["customer"]) == []


async def test_members_edit_tenants_and_anonymous_callers_cannot(
    client: GraphQLClient, tenants: Tenants, world: dict[str, str]
) -> None:
    member = client.as_(tenants.a.member)
    changed = await member.data(
        UPDATE, {"input": {"id": world["tenant"], "domain": "fabrikam-new.onmicrosoft.com"}}
    )
    assert changed["updateTenant"]["errors"] == []
    anonymous = await client.as_(None).post(REMOVE, {"input": {"id": world["tenant"]}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
