"""The catalogue through the GraphQL API (SPEC P1): programs, products, versioned prices."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_graph.database import Database
from prism_tables.outbox import OutboxEvent
from tests.support.catalogue import (
    PRODUCT_FIELDS,
    create_product,
    create_product_payload,
    create_program,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

CHANGE_PRICE = f"""
mutation($input: ChangeProductPriceInput!) {{
  changeProductPrice(input: $input) {{
    product {{ {PRODUCT_FIELDS} }} errors {{ field code message }} warnings {{ field code }}
  }}
}}
"""

PRODUCT = f"query($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}"

PRODUCTS = """
query($programId: ID, $search: String, $first: Int, $after: String, $includeRetired: Boolean) {
  products(programId: $programId, search: $search, first: $first, after: $after,
           includeRetired: $includeRetired) {
    totalCount
    edges { node { sku name retired } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def outbox_events(database: Database, type_: str) -> list[OutboxEvent]:
    async with AsyncSession(database.engine) as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.type == type_))
        return list(rows)


async def test_a_product_is_created_with_its_first_price_version(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client, "Microsoft CSP", "AUD")

    payload = await create_product_payload(
        client,
        programId=program,
        sku="CFQ7TTC0LH18:0001",
        name="  Microsoft 365   Business Basic ",
        buyPrice="8.1",
        rrp="9.000000",
        billingTerm="MONTHLY",
        kind="LICENCE",
        effectiveFrom="2026-01-01",
    )

    assert payload["errors"] == []
    product = payload["product"]
    assert product["name"] == "Microsoft 365 Business Basic"
    assert product["program"]["currency"] == "AUD"
    assert product["priceHistory"] == [
        {"effectiveFrom": "2026-01-01", "buyPrice": "8.10", "rrp": "9.00"}
    ]
    assert product["price"] == {"effectiveFrom": "2026-01-01", "buyPrice": "8.10", "rrp": "9.00"}
    assert len(await outbox_events(database, "product.price_changed")) == 1


async def test_a_price_change_is_a_new_version_and_an_outbox_event(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    product = await create_product(client, program, buy_price="8.10", rrp="9.00")

    data = await client.data(
        CHANGE_PRICE,
        {
            "input": {
                "id": product,
                "buyPrice": "8.123456",
                "rrp": "9.50",
                "effectiveFrom": "2026-12-01",
            }
        },
    )

    payload = data["changeProductPrice"]
    assert payload["errors"] == []
    assert payload["product"]["priceHistory"] == [
        {"effectiveFrom": "2026-01-01", "buyPrice": "8.10", "rrp": "9.00"},
        {"effectiveFrom": "2026-12-01", "buyPrice": "8.123456", "rrp": "9.50"},
    ]
    viewed = await client.data(
        'query($id: ID!) { product(id: $id) { price(on: "2026-11-30") { rrp } } }',
        {"id": product},
    )
    assert viewed["product"]["price"] == {"rrp": "9.00"}
    events = [e.payload for e in await outbox_events(database, "product.price_changed")]
    assert events[-1]["old_buy_price"] == "8.10"
    assert events[-1]["new_buy_price"] == "8.123456"
    assert events[-1]["effective_from"] == "2026-12-01"


async def test_prices_keep_every_digit_on_every_backend(client: GraphQLClient) -> None:
    # given prices a double cannot hold (20 significant digits) and 0.1 + 0.2-style values
    program = await create_program(client)
    product = await create_product(
        client, program, buy_price="12345678901234.123456", rrp="0.300001"
    )

    # when the product is read back
    viewed = await client.data(PRODUCT, {"id": product})

    # then the prices are exactly as entered
    assert viewed["product"]["price"] == {
        "effectiveFrom": "2026-01-01",
        "buyPrice": "12345678901234.123456",
        "rrp": "0.300001",
    }


async def test_the_same_prices_again_change_nothing_and_raise_no_event(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    product = await create_product(client, program, buy_price="8.10", rrp="9.00")

    data = await client.data(
        CHANGE_PRICE,
        {"input": {"id": product, "buyPrice": "8.1", "rrp": "9", "effectiveFrom": "2026-06-01"}},
    )

    assert len(data["changeProductPrice"]["product"]["priceHistory"]) == 1
    assert len(await outbox_events(database, "product.price_changed")) == 1


async def test_bad_product_input_is_field_errors_and_nothing_is_written(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    await create_product(client, program, sku="SKU-1")

    payload = await create_product_payload(
        client,
        programId=program,
        sku="SKU-1",
        name="Duplicate",
        buyPrice="1.1234567",
        rrp="-1",
        billingTerm="ANNUAL",
        kind="LICENCE",
    )

    assert payload["product"] is None
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("input.buyPrice", "INVALID"),
        ("input.rrp", "OUT_OF_RANGE"),
    }
    duplicate = await create_product_payload(
        client,
        programId=program,
        sku="sku-1",
        name="Duplicate",
        buyPrice="1",
        rrp="2",
        billingTerm="ANNUAL",
        kind="LICENCE",
    )
    assert [(e["field"], e["code"]) for e in duplicate["errors"]] == [("input.sku", "DUPLICATE")]
    assert len(await outbox_events(database, "product.price_changed")) == 1


async def test_selling_below_cost_is_accepted_with_a_warning(client: GraphQLClient) -> None:
    program = await create_program(client)
    payload = await create_product_payload(
        client,
        programId=program,
        sku="LOSS-1",
        name="Loss leader",
        buyPrice="10",
        rrp="9",
        billingTerm="MONTHLY",
        kind="LICENCE",
    )
    assert payload["errors"] == []
    assert payload["warnings"] == [
        {"field": "input.rrp", "code": "BELOW_COST", "message": payload["warnings"][0]["message"]}
    ]


async def test_partners_read_the_catalogue_but_may_not_change_it(
    client: GraphQLClient, tenants: Tenants, database: Database
) -> None:
    program = await create_program(client)
    product = await create_product(client, program, name="Exchange Online (Plan 1)")
    partner = client.as_(tenants.a.admin)

    read = await partner.data(PRODUCT, {"id": product})
    refused = await partner.post(
        CHANGE_PRICE,
        {"input": {"id": product, "buyPrice": "1", "rrp": "2", "effectiveFrom": "2026-06-01"}},
    )

    assert read["product"]["name"] == "Exchange Online (Plan 1)"
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(await outbox_events(database, "product.price_changed")) == 1


async def test_retired_products_leave_the_list_and_refuse_price_changes(
    client: GraphQLClient,
) -> None:
    program = await create_program(client)
    product = await create_product(client, program, name="Old plan")
    await create_product(client, program, name="New plan")

    retired = await client.data(
        "mutation($id: ID!) { retireProduct(input: {id: $id}) { product { retired } errors { code } } }",
        {"id": product},
    )
    listed = await client.data(PRODUCTS, {"programId": program, "first": 10})
    everything = await client.data(
        PRODUCTS, {"programId": program, "first": 10, "includeRetired": True}
    )
    change = await client.data(
        CHANGE_PRICE,
        {"input": {"id": product, "buyPrice": "1", "rrp": "2", "effectiveFrom": "2026-06-01"}},
    )

    assert retired["retireProduct"] == {"product": {"retired": True}, "errors": []}
    assert [e["node"]["name"] for e in listed["products"]["edges"]] == ["New plan"]
    assert everything["products"]["totalCount"] == 2
    assert [e["code"] for e in change["changeProductPrice"]["errors"]] == ["RETIRED"]


async def test_products_are_searched_by_sku_or_name_and_paged(client: GraphQLClient) -> None:
    program = await create_program(client)
    for i in range(5):
        await create_product(client, program, sku=f"M365-E{i}", name=f"Microsoft 365 E{i}")
    await create_product(client, program, sku="AZURE-PLAN", name="Azure plan", kind="USAGE")

    first = await client.data(PRODUCTS, {"programId": program, "search": "365", "first": 3})
    rest = await client.data(
        PRODUCTS,
        {
            "programId": program,
            "search": "365",
            "first": 3,
            "after": first["products"]["pageInfo"]["endCursor"],
        },
    )
    by_sku = await client.data(PRODUCTS, {"search": "azure-pl", "first": 3})

    assert first["products"]["totalCount"] == 5
    names = [e["node"]["name"] for e in first["products"]["edges"] + rest["products"]["edges"]]
    assert names == [f"Microsoft 365 E{i}" for i in range(5)]
    assert [e["node"]["sku"] for e in by_sku["products"]["edges"]] == ["AZURE-PLAN"]


async def test_an_update_changes_name_and_description_only(client: GraphQLClient) -> None:
    program = await create_program(client)
    product = await create_product(client, program, name="Teams Essentials")

    data = await client.data(
        "mutation($input: UpdateProductInput!) { updateProduct(input: $input) {"
        " product { name description sku } errors { field code } } }",
        {"input": {"id": product, "name": "Microsoft Teams Essentials", "description": "Chat"}},
    )
    missing = await client.data(
        "mutation($input: UpdateProductInput!) { updateProduct(input: $input) {"
        " errors { field code } } }",
        {"input": {"id": program, "name": "x"}},
    )

    assert data["updateProduct"]["product"]["name"] == "Microsoft Teams Essentials"
    assert data["updateProduct"]["product"]["description"] == "Chat"
    assert missing["updateProduct"]["errors"] == [{"field": "input.id", "code": "NOT_FOUND"}]
