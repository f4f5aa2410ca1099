"""GraphQL helpers for catalogue, subscription and billing tests (P1-P3, O7)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.graphql import GraphQLClient

PRODUCT_FIELDS = """
  id sku name description billingTerm kind retired program { id name currency }
  price { effectiveFrom buyPrice rrp }
  priceHistory { effectiveFrom buyPrice rrp }
"""


async def create_program(
    client: GraphQLClient, name: str | None = None, currency: str = "AUD"
) -> str:
    data = await client.data(
        "mutation($input: CreateProgramInput!) { createProgram(input: $input) {"
        " program { id } errors { field code message } } }",
        {"input": {"name": name or f"Microsoft CSP {uuid.uuid4().hex[:6]}", "currency": currency}},
    )
    assert data["createProgram"]["errors"] == []
    program_id: str = data["createProgram"]["program"]["id"]
    return program_id


async def create_product_payload(client: GraphQLClient, **input: Any) -> dict[str, Any]:
    data = await client.data(
        "mutation($input: CreateProductInput!) { createProduct(input: $input) {"
        f" product {{ {PRODUCT_FIELDS} }} errors {{ field code message }}"
        " warnings { field code message } } }",
        {"input": input},
    )
    payload: dict[str, Any] = data["createProduct"]
    return payload


async def create_product(
    client: GraphQLClient,
    program_id: str,
    *,
    sku: str | None = None,
    name: str = "Microsoft 365 Business Basic",
    buy_price: str = "8.10",
    rrp: str = "9.00",
    billing_term: str = "MONTHLY",
    kind: str = "LICENCE",
    effective_from: str = "2026-01-01",
) -> str:
    payload = await create_product_payload(
        client,
        programId=program_id,
        sku=sku or f"CFQ7TTC0{uuid.uuid4().hex[:4].upper()}:0001",
        name=name,
        buyPrice=buy_price,
        rrp=rrp,
        billingTerm=billing_term,
        kind=kind,
        effectiveFrom=effective_from,
    )
    assert payload["errors"] == [], payload["errors"]
    product_id: str = payload["product"]["id"]
    return product_id


async def create_customer(client: GraphQLClient, partner_gid: str, name: str | None = None) -> str:
    data = await client.data(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {"
        " customer { id } errors { field code message } } }",
        {"input": {"name": name or f"Fabrikam {uuid.uuid4().hex[:6]}", "partnerId": partner_gid}},
    )
    assert data["createCustomer"]["errors"] == []
    customer_id: str = data["createCustomer"]["customer"]["id"]
    return customer_id
