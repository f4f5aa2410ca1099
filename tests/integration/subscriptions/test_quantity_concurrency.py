"""P2 under concurrency: two quantity changes with the same effective date, at the same time.

Both are kept in the history and the one recorded second wins (docs/catalogue-and-billing.md):
a change locks its subscription row (`SELECT ... FOR UPDATE`) before it reads the history, so
the second waits for the first and numbers itself after it, instead of both taking the same
`sequence` and the loser failing on the unique key with "Unexpected error.".
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from prism_tables.subscriptions import Subscription
from tests.support.backends import postgres_requested
from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

CREATE = """
mutation($input: CreateSubscriptionInput!) {
  createSubscription(input: $input) { subscription { id } errors { field code message } }
}
"""

CHANGE = """
mutation($input: ChangeSubscriptionQuantityInput!) {
  changeSubscriptionQuantity(input: $input) {
    subscription { quantity } errors { field code message }
  }
}
"""

HISTORY = """
query($id: ID!) {
  subscription(id: $id) { quantity quantityOn(day: "2026-11-20")
    quantityHistory { effectiveFrom quantity sequence } }
}
"""


def sessions_waiting_on_a_lock(engine: Engine) -> int:
    with engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


async def new_subscription(client: GraphQLClient, tenants: Tenants) -> str:
    program = await create_program(client)
    product = await create_product(client, program)
    customer = await create_customer(client, tenants.a.gid)
    data = await client.data(
        CREATE,
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": 10,
                "startDate": "2026-11-01",
            }
        },
    )
    assert data["createSubscription"]["errors"] == []
    subscription_id: str = data["createSubscription"]["subscription"]["id"]
    return subscription_id


async def change(client: GraphQLClient, sub: str, quantity: int) -> dict[str, Any]:
    data = await client.data(
        CHANGE, {"input": {"id": sub, "quantity": quantity, "effectiveFrom": "2026-11-16"}}
    )
    payload: dict[str, Any] = data["changeSubscriptionQuantity"]
    return payload


@pytest.mark.skipif(not postgres_requested(), reason="real row locks: PostgreSQL only")
async def test_two_changes_for_one_day_released_together_are_both_kept(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    sub = await new_subscription(client, tenants)
    pk = int(base64.b64decode(sub).decode().partition(":")[2])

    with sync_engine.connect() as holder:
        holder.execute(select(Subscription.id).where(Subscription.id == pk).with_for_update())
        changes = [asyncio.create_task(change(client, sub, q)) for q in (15, 12)]
        deadline = time.monotonic() + 10
        while sessions_waiting_on_a_lock(sync_engine) < 2:
            assert not any(c.done() for c in changes), "a change did not wait for the lock"
            assert time.monotonic() < deadline, "the changes never reached the lock"
            await asyncio.sleep(0.01)  # let both requests run up to the lock
        holder.rollback()  # release them together

    first, second = await asyncio.gather(*changes)
    viewed = (await client.data(HISTORY, {"id": sub}))["subscription"]

    assert first["errors"] == [] and second["errors"] == []
    history = viewed["quantityHistory"]
    assert [(h["effectiveFrom"], h["sequence"]) for h in history] == [
        ("2026-11-01", 0),
        ("2026-11-16", 1),
        ("2026-11-16", 2),
    ]
    assert sorted(h["quantity"] for h in history[1:]) == [12, 15]
    later = history[-1]["quantity"]  # whichever was recorded second wins
    assert viewed["quantity"] == viewed["quantityOn"] == later
    assert second["subscription"]["quantity"] == later or first["subscription"]["quantity"] == later


async def test_simultaneous_changes_for_one_day_never_fail(
    client: GraphQLClient, tenants: Tenants
) -> None:
    sub = await new_subscription(client, tenants)

    results = await asyncio.gather(*(change(client, sub, q) for q in (11, 12, 13, 14)))
    viewed = (await client.data(HISTORY, {"id": sub}))["subscription"]

    assert [r["errors"] for r in results] == [[], [], [], []]
    history = viewed["quantityHistory"]
    assert [h["sequence"] for h in history] == [0, 1, 2, 3, 4]
    assert sorted(h["quantity"] for h in history[1:]) == [11, 12, 13, 14]
    assert viewed["quantity"] == viewed["quantityOn"] == history[-1]["quantity"]
