"""Customers through the GraphQL API (SPEC O1): create, view, list with search/sort/paging."""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_graph.database import Database
from prism_tables.organisations import Organisation
from prism_tables.outbox import OutboxEvent
from tests.support.graphql import GraphQLClient
from tests.support.sql import count_statements

pytestmark = pytest.mark.integration

CREATE = """
mutation Create($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id name domain status owner { id name kind } }
    errors { field code message }
    clientMutationId
  }
}
"""

LIST = """
query List($first: Int, $after: String, $last: Int, $before: String, $search: String,
           $orderBy: CustomerOrder) {
  customers(first: $first, after: $after, last: $last, before: $before, search: $search,
            orderBy: $orderBy) {
    totalCount
    edges { cursor node { id name domain owner { name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def add_organisations(database: Database) -> dict[str, str]:
    """Global ids of the partners the `tenants` fixture made, by name."""
    async with AsyncSession(database.engine) as session:
        rows = (await session.scalars(select(Organisation))).all()
    return {o.name: gid("Organisation", o.id) for o in rows}


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def create(client: GraphQLClient, **input: Any) -> dict[str, Any]:
    data = await client.data(CREATE, {"input": input})
    payload: dict[str, Any] = data["createCustomer"]
    return payload


async def outbox_count(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(OutboxEvent))).scalar_one())


async def test_creating_a_customer_returns_it_and_stages_its_event(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)
    name = f"Fabrikam {uuid.uuid4().hex[:6]}"

    payload = await create(
        client,
        name=f"  {name} ",
        domain="Fabrikam.example",
        partnerId=orgs["Partner A"],
        clientMutationId="m1",
    )

    assert payload["errors"] == []
    assert payload["clientMutationId"] == "m1"
    customer = payload["customer"]
    assert customer["name"] == name
    assert customer["domain"] == "fabrikam.example"
    assert customer["status"] == "PROSPECT"
    assert customer["owner"] == {"id": orgs["Partner A"], "name": "Partner A", "kind": "PARTNER"}
    viewed = await client.data(
        "query($id: ID!) { customer(id: $id) { name } node(id: $id) { ... on Customer { name } } }",
        {"id": customer["id"]},
    )
    assert viewed == {"customer": {"name": name}, "node": {"name": name}}
    async with AsyncSession(database.engine) as session:
        event = (await session.scalars(select(OutboxEvent))).one()
    assert event.type == "customer.created"
    assert event.payload["name"] == name
    assert event.published_at is None


async def test_a_customer_without_partner_is_the_distributors_direct_customer(
    client: GraphQLClient, database: Database
) -> None:
    await add_organisations(database)
    payload = await create(client, name="Direct Co")
    assert payload["customer"]["owner"]["kind"] == "DISTRIBUTOR"


async def test_bad_input_gets_field_errors_and_changes_nothing(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)

    payload = await create(client, name=" ", domain="not a domain", partnerId=orgs["Partner A"])

    assert payload["customer"] is None
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("input.name", "REQUIRED"),
        ("input.domain", "INVALID"),
    }
    assert all(e["message"] for e in payload["errors"])
    assert await outbox_count(database) == 0
    listed = await client.data(LIST, {"first": 10})
    assert listed["customers"]["totalCount"] == 0


async def test_a_duplicate_name_for_the_same_partner_is_refused(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)
    assert (await create(client, name="Acme", partnerId=orgs["Partner A"]))["errors"] == []

    again = await create(client, name="ACME", partnerId=orgs["Partner A"])
    other_partner = await create(client, name="Acme", partnerId=orgs["Partner B"])

    assert [(e["field"], e["code"]) for e in again["errors"]] == [("input.name", "DUPLICATE")]
    assert other_partner["errors"] == []
    assert await outbox_count(database) == 2


@pytest.mark.parametrize("partner", ["T3JnYW5pc2F0aW9uOjk5OTk=", "Q3VzdG9tZXI6MQ=="])
async def test_an_unknown_partner_is_a_field_error(
    client: GraphQLClient, database: Database, partner: str
) -> None:
    await add_organisations(database)
    payload = await create(client, name="Acme", partnerId=partner)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("input.partnerId", "NOT_FOUND")
    ]


async def test_customers_page_forward_and_back_in_name_order(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)
    names = [f"Customer {i:02d}" for i in range(7)]
    for name in reversed(names):
        await create(client, name=name, partnerId=orgs["Partner A"])

    seen, after = [], None
    while True:
        page = (await client.data(LIST, {"first": 3, "after": after}))["customers"]
        seen += [e["node"]["name"] for e in page["edges"]]
        assert page["totalCount"] == 7
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == names

    back = (await client.data(LIST, {"last": 2, "before": after}))["customers"]
    # `after` is the end of the second page (Customer 05): the two before it.
    assert [e["node"]["name"] for e in back["edges"]] == names[3:5]
    assert back["pageInfo"]["hasPreviousPage"] is True
    desc = await client.data(LIST, {"first": 2, "orderBy": {"field": "NAME", "direction": "DESC"}})
    assert [e["node"]["name"] for e in desc["customers"]["edges"]] == names[:-3:-1]


async def test_search_matches_name_or_domain_and_treats_wildcards_literally(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)
    await create(
        client, name="Tailspin Toys", domain="tailspin.example", partnerId=orgs["Partner A"]
    )
    await create(client, name="100% Pure", partnerId=orgs["Partner A"])
    await create(client, name="Litware", domain="lit.example", partnerId=orgs["Partner A"])

    async def search(text: str) -> list[str]:
        data = await client.data(LIST, {"first": 10, "search": text})
        return [e["node"]["name"] for e in data["customers"]["edges"]]

    assert await search("TAILSPIN") == ["Tailspin Toys"]
    assert await search("lit.exa") == ["Litware"]
    assert await search("%") == ["100% Pure"]
    assert await search("_") == []


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100"),
        ({"first": -1}, "`first` must be between 0 and 100"),
        ({"first": 1, "last": 1}, "either `first` or `last`"),
        ({"first": 1, "after": "garbage!!"}, "cursor is not valid"),
        ({"first": 1, "after": "WzFd"}, "cursor is not valid"),  # [1]: wrong arity
    ],
)
async def test_bad_paging_arguments_get_a_clear_error(
    client: GraphQLClient, database: Database, variables: dict[str, Any], message: str
) -> None:
    body = await client.post(LIST, variables)
    assert body["data"] is None
    (error,) = body["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_a_page_costs_the_same_statements_whatever_its_size(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)
    for i in range(30):
        await create(
            client, name=f"C{i:02d}", partnerId=orgs["Partner A" if i % 2 else "Partner B"]
        )

    async def statements_for(size: int) -> int:
        with count_statements(database.engine) as log:
            data = await client.data(LIST, {"first": size})
        assert len(data["customers"]["edges"]) == size
        return log.count

    small, large = await statements_for(2), await statements_for(30)
    # The token's principal, the page, the owners (one batched load), the total count.
    assert small == large == 4


async def test_unknown_ids_read_as_null(client: GraphQLClient, database: Database) -> None:
    data = await client.data(
        "query($a: ID!, $b: ID!) { customer(id: $a) { name } node(id: $b) { id } }",
        {"a": gid("Customer", 12345), "b": gid("Customer", 12345)},
    )
    assert data == {"customer": None, "node": None}


async def test_unexpected_errors_are_masked_for_clients_and_logged(
    client: GraphQLClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prism_graph.customers import service

    async def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(service, "create_customer", explode)
    with caplog.at_level(logging.ERROR):
        body = await client.post(CREATE, {"input": {"name": "Acme"}})

    assert body["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in str(body)
    assert "Traceback" not in str(body)
    assert "secret internals" in caplog.text


async def test_paging_by_creation_time_follows_the_cursor(
    client: GraphQLClient, database: Database
) -> None:
    orgs = await add_organisations(database)
    for i in range(5):
        await create(client, name=f"Timed {i}", partnerId=orgs["Partner A"])
    order = {"field": "CREATED_AT", "direction": "DESC"}

    first = (await client.data(LIST, {"first": 2, "orderBy": order}))["customers"]
    rest = (
        await client.data(
            LIST, {"first": 10, "after": first["pageInfo"]["endCursor"], "orderBy": order}
        )
    )["customers"]

    names = [e["node"]["name"] for e in first["edges"] + rest["edges"]]
    assert names == [f"Timed {i}" for i in reversed(range(5))]
