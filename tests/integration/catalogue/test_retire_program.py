"""Retiring a program (issue 14, P1): off the catalogue for new business, what exists keeps
billing. Its products are retired with it, `programs` lists it only when asked, no product,
price list or tenant can be added to it; only the distributor retires."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogue import (
    create_customer,
    create_product,
    create_product_payload,
    create_program,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = pytest.mark.integration

RETIRE = """
mutation($id: ID!) {
  retireProgram(input: {id: $id}) { program { id name retired retiredAt } errors { field code } }
}"""
PROGRAMS = "query($all: Boolean!) { programs(includeRetired: $all) { name retired } }"


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_retired_program_takes_nothing_new_and_keeps_what_exists(
    client: GraphQLClient, tenants: Tenants
) -> None:
    old = await create_program(client, "Legacy SPLA")
    kept = await create_program(client, "Microsoft CSP")
    product = await create_product(client, old, sku="SPLA-WIN")
    customer = await create_customer(client, tenants.a.gid)
    subscribed = await client.data(
        """mutation($input: CreateSubscriptionInput!) {
          createSubscription(input: $input) { subscription { id } errors { code } } }""",
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": 2,
                "startDate": "2026-11-01",
            }
        },
    )
    assert subscribed["createSubscription"]["errors"] == []

    retired = (await client.data(RETIRE, {"id": old}))["retireProgram"]
    again = (await client.data(RETIRE, {"id": old}))["retireProgram"]

    assert retired["errors"] == [] and retired["program"]["retired"] is True
    assert again == retired  # asking again changes nothing
    partner = client.as_(tenants.a.admin)
    assert (await partner.data(PROGRAMS, {"all": False}))["programs"] == [
        {"name": "Microsoft CSP", "retired": False}
    ]
    assert [p["name"] for p in (await partner.data(PROGRAMS, {"all": True}))["programs"]] == [
        "Legacy SPLA",
        "Microsoft CSP",
    ]
    viewed = await partner.data(
        "query($id: ID!) { product(id: $id) { retired program { retired } } }", {"id": product}
    )
    assert viewed["product"] == {"retired": True, "program": {"retired": True}}

    new_product = await create_product_payload(
        client,
        programId=old,
        sku="SPLA-SQL",
        name="SQL",
        buyPrice="1",
        rrp="2",
        billingTerm="MONTHLY",
        kind="LICENCE",
    )
    imported = await client.data(
        """mutation($input: ImportPriceListInput!) {
          importPriceList(input: $input) { applied errors { field code } } }""",
        {
            "input": {
                "programId": old,
                "csv": "sku,name,buy_price,rrp,billing_term,kind\n"
                "SPLA-SQL,SQL,1,2,MONTHLY,LICENCE\n",
                "dryRun": False,
            }
        },
    )
    tenant = await partner.data(
        """mutation($input: CreateTenantInput!) {
          createTenant(input: $input) { tenant { id } errors { field code } } }""",
        {"input": {"customerId": customer, "programId": old, "domain": "f.onmicrosoft.com"}},
    )
    ordered = await partner.data(
        """mutation($input: CreateSubscriptionInput!) {
          createSubscription(input: $input) { subscription { id } errors { field code } } }""",
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": 1,
                "startDate": "2026-12-01",
            }
        },
    )

    assert codes(new_product) == [("input.programId", "RETIRED")]
    assert codes(imported["importPriceList"]) == [("input.programId", "RETIRED")]
    assert codes(tenant["createTenant"]) == [("input.programId", "RETIRED")]
    assert codes(ordered["createSubscription"]) == [("input.productId", "RETIRED")]
    # The existing subscription is still there, not cancelled: it keeps billing.
    page = await partner.data(
        "query($id: ID!) { node(id: $id) { ... on Customer { subscriptions { sku cancelledFrom } } } }",
        {"id": customer},
    )
    assert page["node"]["subscriptions"] == [{"sku": "SPLA-WIN", "cancelledFrom": None}]
    assert [p["name"] for p in (await client.data(PROGRAMS, {"all": False}))["programs"]] == [
        "Microsoft CSP"
    ]
    assert kept


async def test_only_the_distributor_retires_and_unknown_programs_are_not_found(
    client: GraphQLClient, tenants: Tenants
) -> None:
    program = await create_program(client)

    for token in (tenants.a.admin, tenants.b.member):
        body = await client.as_(token).post(RETIRE, {"id": program})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unknown = (await client.data(RETIRE, {"id": gid("Program", 987654)}))["retireProgram"]
    wrong_type = (await client.data(RETIRE, {"id": tenants.a.gid}))["retireProgram"]

    assert (
        unknown
        == wrong_type
        == {"program": None, "errors": [{"field": "input.id", "code": "NOT_FOUND"}]}
    )
    listed = await client.data(PROGRAMS, {"all": False})
    assert [p["retired"] for p in listed["programs"]] == [False]
