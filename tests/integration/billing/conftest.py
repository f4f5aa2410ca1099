"""For the billing tests: a month of activity for two partners to bill."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants


async def mutate(client: GraphQLClient, name: str, input: dict[str, Any]) -> dict[str, Any]:
    data = await client.data(
        f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) "
        "{ errors { field code message } } }",
        {"input": input},
    )
    payload: dict[str, Any] = data[name]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def subscribe(
    client: GraphQLClient, customer: str, product: str, quantity: int, start: str
) -> str:
    data = await client.data(
        "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
        " subscription { id } errors { field code message } } }",
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": quantity,
                "startDate": start,
            }
        },
    )
    assert data["createSubscription"]["errors"] == []
    sub_id: str = data["createSubscription"]["subscription"]["id"]
    return sub_id


@pytest.fixture
async def month_of_activity(client: GraphQLClient, tenants: Tenants) -> dict[str, str]:
    """Given partner A's customer with a licence changed mid-month, Azure usage, a set-up fee
    and a credit, and partner B's customer with one licence, all in October 2026."""
    program = await create_program(client, "Microsoft CSP", "AUD")
    licence = await create_product(
        client,
        program,
        sku="M365-BP",
        name="Microsoft 365 Business Premium",
        buy_price="10.00",
        rrp="12.00",
    )
    azure = await create_product(
        client,
        program,
        sku="AZURE-PLAN",
        name="Azure plan",
        kind="USAGE",
        buy_price="1.00",
        rrp="1.00",
    )
    fee = await create_product(
        client,
        program,
        sku="ONBOARD",
        name="Onboarding",
        kind="ONE_TIME_FEE",
        buy_price="99.00",
        rrp="150.00",
    )
    fabrikam = await create_customer(client, tenants.a.gid, "Fabrikam")
    litware = await create_customer(client, tenants.b.gid, "Litware")
    sub = await subscribe(client, fabrikam, licence, 10, "2026-10-01")
    await mutate(
        client,
        "changeSubscriptionQuantity",
        {"id": sub, "quantity": 15, "effectiveFrom": "2026-10-16"},
    )
    await subscribe(client, litware, licence, 1, "2026-10-01")
    for day, quantity in (("2026-10-03", "12.5"), ("2026-10-04", "7.25")):
        await mutate(
            client,
            "recordUsage",
            {"customerId": fabrikam, "productId": azure, "day": day, "quantity": quantity},
        )
    await mutate(
        client, "addOneTimeFee", {"customerId": fabrikam, "productId": fee, "day": "2026-10-01"}
    )
    await mutate(
        client,
        "addAdjustment",
        {
            "customerId": fabrikam,
            "programId": program,
            "day": "2026-10-20",
            "amount": "-5.00",
            "description": "Goodwill credit",
        },
    )
    await mutate(
        client,
        "addAccountContact",
        {
            "accountId": tenants.a.gid,
            "firstName": "Bill",
            "lastName": "Ing",
            "email": f"billing@{tenants.a.domain}",
            "type": "BILLING",
        },
    )
    return {"program": program, "subscription": sub, "fabrikam": fabrikam}
