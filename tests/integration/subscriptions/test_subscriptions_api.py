"""Subscriptions through the API (O7, P2): create, change quantity with history, cancel."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

SUBSCRIPTION_FIELDS = """
  id sku billingTerm startDate quantity cancelledFrom
  product { name }
  quantityHistory { effectiveFrom quantity sequence }
"""

CREATE = f"""
mutation($input: CreateSubscriptionInput!) {{
  createSubscription(input: $input) {{
    subscription {{ {SUBSCRIPTION_FIELDS} }} errors {{ field code message }}
  }}
}}
"""

CHANGE = f"""
mutation($input: ChangeSubscriptionQuantityInput!) {{
  changeSubscriptionQuantity(input: $input) {{
    subscription {{ {SUBSCRIPTION_FIELDS} }} errors {{ field code message }}
  }}
}}
"""

CANCEL = f"""
mutation($input: CancelSubscriptionInput!) {{
  cancelSubscription(input: $input) {{
    subscription {{ {SUBSCRIPTION_FIELDS} }} errors {{ field code message }}
  }}
}}
"""

CUSTOMER = f"""
query($id: ID!) {{
  customer(id: $id) {{ name subscriptions {{ {SUBSCRIPTION_FIELDS} }} }}
}}
"""


async def subscribe(client: GraphQLClient, **input: Any) -> dict[str, Any]:
    data = await client.data(CREATE, {"input": input})
    payload: dict[str, Any] = data["createSubscription"]
    return payload


@pytest.fixture
async def setup(client: GraphQLClient, tenants: Tenants) -> dict[str, str]:
    program = await create_program(client)
    return {
        "program": program,
        "product": await create_product(client, program, sku="M365-BP", name="Business Premium"),
        "customer": await create_customer(client, tenants.a.gid),
    }


async def test_a_partner_subscribes_its_customer_and_sees_it_on_the_customer(
    client: GraphQLClient, tenants: Tenants, setup: dict[str, str]
) -> None:
    partner = client.as_(tenants.a.admin)

    payload = await subscribe(
        partner,
        customerId=setup["customer"],
        productId=setup["product"],
        quantity=10,
        startDate="2026-11-01",
    )
    viewed = await partner.data(CUSTOMER, {"id": setup["customer"]})

    assert payload["errors"] == []
    subscription = payload["subscription"]
    assert subscription["billingTerm"] == "MONTHLY"  # the product's term
    assert subscription["quantityHistory"] == [
        {"effectiveFrom": "2026-11-01", "quantity": 10, "sequence": 0}
    ]
    assert viewed["customer"]["subscriptions"] == [subscription]


async def test_quantity_changes_take_an_effective_date_and_keep_history(
    client: GraphQLClient, setup: dict[str, str]
) -> None:
    created = await subscribe(
        client,
        customerId=setup["customer"],
        productId=setup["product"],
        quantity=10,
        startDate="2026-11-01",
    )
    sub = created["subscription"]["id"]

    await client.data(CHANGE, {"input": {"id": sub, "quantity": 15, "effectiveFrom": "2026-11-16"}})
    changed = await client.data(
        CHANGE, {"input": {"id": sub, "quantity": 12, "effectiveFrom": "2026-11-16"}}
    )
    on = await client.data(
        'query($id: ID!) { subscription(id: $id) { a: quantityOn(day: "2026-11-15")'
        ' b: quantityOn(day: "2026-11-16") c: quantityOn(day: "2026-10-31") } }',
        {"id": sub},
    )

    result = changed["changeSubscriptionQuantity"]["subscription"]
    assert result["quantity"] == 12
    assert result["quantityHistory"] == [
        {"effectiveFrom": "2026-11-01", "quantity": 10, "sequence": 0},
        {"effectiveFrom": "2026-11-16", "quantity": 15, "sequence": 1},
        {"effectiveFrom": "2026-11-16", "quantity": 12, "sequence": 2},
    ]
    assert on["subscription"] == {"a": 10, "b": 12, "c": 0}


async def test_a_cancelled_subscription_refuses_later_changes(
    client: GraphQLClient, setup: dict[str, str]
) -> None:
    created = await subscribe(
        client,
        customerId=setup["customer"],
        productId=setup["product"],
        quantity=3,
        startDate="2026-11-01",
    )
    sub = created["subscription"]["id"]

    cancelled = await client.data(CANCEL, {"input": {"id": sub, "cancelledFrom": "2026-12-01"}})
    later = await client.data(
        CHANGE, {"input": {"id": sub, "quantity": 5, "effectiveFrom": "2026-12-05"}}
    )
    twice = await client.data(CANCEL, {"input": {"id": sub, "cancelledFrom": "2026-12-02"}})

    assert cancelled["cancelSubscription"]["subscription"]["cancelledFrom"] == "2026-12-01"
    assert [(e["field"], e["code"]) for e in later["changeSubscriptionQuantity"]["errors"]] == [
        ("input.effectiveFrom", "OUT_OF_RANGE")
    ]
    assert [e["code"] for e in twice["cancelSubscription"]["errors"]] == ["INVALID"]


async def test_bad_input_is_field_errors(client: GraphQLClient, setup: dict[str, str]) -> None:
    retired = await create_product(client, setup["program"], sku="OLD", name="Old")
    await client.data(
        "mutation($id: ID!) { retireProduct(input: {id: $id}) { errors { code } } }",
        {"id": retired},
    )

    zero = await subscribe(
        client,
        customerId=setup["customer"],
        productId=setup["product"],
        quantity=0,
        startDate="2026-11-01",
    )
    old = await subscribe(
        client,
        customerId=setup["customer"],
        productId=retired,
        quantity=1,
        startDate="2026-11-01",
    )

    assert [(e["field"], e["code"]) for e in zero["errors"]] == [("input.quantity", "OUT_OF_RANGE")]
    assert [(e["field"], e["code"]) for e in old["errors"]] == [("input.productId", "RETIRED")]
    listed = await client.data(CUSTOMER, {"id": setup["customer"]})
    assert listed["customer"]["subscriptions"] == []


async def test_another_partners_subscription_behaves_like_a_missing_one(
    client: GraphQLClient, tenants: Tenants, setup: dict[str, str]
) -> None:
    created = await subscribe(
        client,
        customerId=setup["customer"],
        productId=setup["product"],
        quantity=3,
        startDate="2026-11-01",
    )
    sub = created["subscription"]["id"]
    other = client.as_(tenants.b.admin)

    change = await other.data(
        CHANGE, {"input": {"id": sub, "quantity": 1, "effectiveFrom": "2026-11-20"}}
    )
    create = await subscribe(
        other,
        customerId=setup["customer"],
        productId=setup["product"],
        quantity=1,
        startDate="2026-11-01",
    )
    viewed = await other.data(
        "query($id: ID!) { subscription(id: $id) { id } node(id: $id) { id } }", {"id": sub}
    )

    assert [e["code"] for e in change["changeSubscriptionQuantity"]["errors"]] == ["NOT_FOUND"]
    assert [(e["field"], e["code"]) for e in create["errors"]] == [
        ("input.customerId", "NOT_FOUND")
    ]
    assert viewed == {"subscription": None, "node": None}
