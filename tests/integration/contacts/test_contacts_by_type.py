"""Contacts by type through the GraphQL API (SPEC C1–C4, N1, T3)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from prism_graph.database import Database
from tests.integration.contacts.support import (
    ACCOUNT_CONTACTS,
    ADD_ACCOUNT_CONTACT,
    ADD_TO_TYPE,
    REMOVE_FROM_TYPE,
    create_customer,
    fields,
    mutate,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.sql import count_statements

pytestmark = pytest.mark.integration


async def add(client: GraphQLClient, account: str, email: str, type_: str, **more: Any) -> Any:
    input = {"accountId": account, "firstName": "Ann", "lastName": "Lee", "email": email}
    input.update(type=type_, **more)
    return await mutate(client, ADD_ACCOUNT_CONTACT, input=input)


async def listing(client: GraphQLClient, account: str) -> dict[str, list[str]]:
    data = await client.data(ACCOUNT_CONTACTS, {"id": account})
    return {
        g["type"]: [c["email"] for c in g["contacts"]] for g in data["accountContacts"]["byType"]
    }


async def test_a_partner_adds_a_contact_to_a_type_and_another_type(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    partner = anonymous.as_(tenants.a.admin)

    added = await add(partner, tenants.a.gid, "  Ann.Lee@Partner-A.example ", "BILLING")
    assert added["errors"] == []
    contact = added["contact"]
    assert contact["email"] == "ann.lee@partner-a.example"
    assert contact["types"] == ["BILLING"]
    again = await mutate(
        partner, ADD_TO_TYPE, input={"contactId": contact["id"], "type": "STATEMENT"}
    )

    assert again["errors"] == []
    assert again["contact"]["types"] == ["BILLING", "STATEMENT"]
    assert await listing(partner, tenants.a.gid) == {
        "BILLING": ["ann.lee@partner-a.example"],
        "STATEMENT": ["ann.lee@partner-a.example"],
        "USAGE_REPORTING": [],
    }


async def test_the_last_contact_of_a_type_cannot_be_removed_until_another_is_added(
    client: GraphQLClient, tenants: Tenants
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    first = (await add(client, customer, "ann@fabrikam.example", "BILLING"))["contact"]
    await mutate(client, ADD_TO_TYPE, input={"contactId": first["id"], "type": "STATEMENT"})

    refused = await mutate(
        client, REMOVE_FROM_TYPE, input={"contactId": first["id"], "type": "BILLING"}
    )

    assert fields(refused) == [("input.type", "LAST_CONTACT_OF_TYPE")]
    assert refused["errors"][0]["message"].startswith(
        "Add another contact to BILLING before removing this one"
    )
    assert (await listing(client, customer))["BILLING"] == ["ann@fabrikam.example"]

    await add(client, customer, "bob@fabrikam.example", "BILLING")
    removed = await mutate(
        client, REMOVE_FROM_TYPE, input={"contactId": first["id"], "type": "BILLING"}
    )

    assert removed["errors"] == []
    assert removed["contact"]["types"] == ["STATEMENT"]  # only that type (C4)
    assert await listing(client, customer) == {
        "BILLING": ["bob@fabrikam.example"],
        "STATEMENT": ["ann@fabrikam.example"],
        "USAGE_REPORTING": [],
    }


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"email": "not-an-address"}, [("input.email", "INVALID")]),
        ({"email": "a" * 250 + "@x.example"}, [("input.email", "TOO_LONG")]),
        ({"email": " "}, [("input.email", "REQUIRED")]),
        ({"firstName": "   "}, [("input.firstName", "REQUIRED")]),
        ({"lastName": "L" * 101}, [("input.lastName", "TOO_LONG")]),
        ({"email": "ANN@fabrikam.example"}, [("input.email", "DUPLICATE")]),
        ({"accountId": "VXNlcjox"}, [("input.accountId", "NOT_FOUND")]),
    ],
)
async def test_bad_input_is_refused_on_its_field_and_changes_nothing(
    client: GraphQLClient, tenants: Tenants, override: dict[str, str], expected: Any
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    await add(client, customer, "ann@fabrikam.example", "BILLING")
    before = await client.data(ACCOUNT_CONTACTS, {"id": customer})

    input = {
        "accountId": customer,
        "firstName": "Bob",
        "lastName": "Ray",
        "email": f"bob-{uuid.uuid4().hex[:6]}@fabrikam.example",
        "type": "STATEMENT",
        **override,
    }
    payload = await mutate(client, ADD_ACCOUNT_CONTACT, input=input)

    assert fields(payload) == expected
    assert payload["contact"] is None
    assert await client.data(ACCOUNT_CONTACTS, {"id": customer}) == before


async def test_an_unknown_type_is_refused_by_the_schema(
    client: GraphQLClient, tenants: Tenants
) -> None:
    literal = await client.post(
        "mutation($account: ID!) { addAccountContact(input: {accountId: $account,"
        ' firstName: "A", lastName: "B", email: "a@b.example", type: MARKETING})'
        " { errors { code } } }",
        {"account": tenants.a.gid},
    )
    variable = await client.post(
        ADD_ACCOUNT_CONTACT,
        {
            "input": {
                "accountId": tenants.a.gid,
                "firstName": "A",
                "lastName": "B",
                "email": "a@b.example",
                "type": "MARKETING",
            }
        },
    )

    assert "MARKETING" in literal["errors"][0]["message"]
    assert variable["errors"] and not variable.get("data")
    assert (await listing(client, tenants.a.gid))["BILLING"] == []


async def test_a_contact_already_in_a_type_or_not_in_it(
    client: GraphQLClient, tenants: Tenants
) -> None:
    contact = (await add(client, tenants.a.gid, "ann@partner-a.example", "BILLING"))["contact"]

    twice = await mutate(client, ADD_TO_TYPE, input={"contactId": contact["id"], "type": "BILLING"})
    absent = await mutate(
        client, REMOVE_FROM_TYPE, input={"contactId": contact["id"], "type": "USAGE_REPORTING"}
    )

    assert fields(twice) == [("input.type", "DUPLICATE")]
    assert fields(absent) == [("input.type", "NOT_FOUND")]


async def test_another_tenants_account_and_contacts_are_not_found(
    anonymous: GraphQLClient, client: GraphQLClient, tenants: Tenants
) -> None:
    b_customer = await create_customer(client, "Litware", "litware.example", tenants.b.gid)
    b_contact = (await add(client, tenants.b.gid, "bo@partner-b.example", "BILLING"))["contact"]
    await add(client, tenants.b.gid, "cy@partner-b.example", "BILLING")
    partner_a = anonymous.as_(tenants.a.admin)

    for account in (tenants.b.gid, b_customer, tenants.distributor.gid):
        assert (await partner_a.data(ACCOUNT_CONTACTS, {"id": account}))["accountContacts"] is None
        refused = await add(partner_a, account, "x@partner-a.example", "BILLING")
        assert fields(refused) == [("input.accountId", "NOT_FOUND")]
    for query, type_ in ((ADD_TO_TYPE, "STATEMENT"), (REMOVE_FROM_TYPE, "BILLING")):
        refused = await mutate(
            partner_a, query, input={"contactId": b_contact["id"], "type": type_}
        )
        assert fields(refused) == [("input.contactId", "NOT_FOUND")]
    node = await partner_a.data("query($id: ID!) { node(id: $id) { id } }", {"id": b_contact["id"]})
    assert node == {"node": None}
    assert len((await listing(client, tenants.b.gid))["BILLING"]) == 2


async def test_listing_costs_the_same_statements_for_two_or_eight_contacts(
    client: GraphQLClient, tenants: Tenants, database: Database
) -> None:
    costs = []
    for account, size in ((tenants.a.gid, 2), (tenants.b.gid, 8)):
        for n in range(size):
            await add(client, account, f"c{n}@x.example", "BILLING")
        with count_statements(database.engine) as log:
            listed = await listing(client, account)
        assert len(listed["BILLING"]) == size
        costs.append(len(log.selects()))
    assert costs[0] == costs[1]
