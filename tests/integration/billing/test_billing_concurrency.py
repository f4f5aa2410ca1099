"""P3 under concurrency: a billing run and a change to what it bills never miss each other.

Either the change is on the invoice, or it is refused as dated in an invoiced month; it is
never accepted and left unbilled (docs/catalogue-and-billing.md, the billing lock).
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import pytest
from sqlalchemy import Engine

from prism_domain.access import Scope
from prism_graph.billing import run as billing
from prism_graph.database import Database
from prism_graph.subscriptions.service import change_quantity
from tests.integration.subscriptions.test_quantity_concurrency import sessions_waiting_on_a_lock
from tests.support.backends import postgres_requested
from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

MONTH = "2026-09"
LINES = """query($id: ID!) { invoice(id: $id) { lines { periodStart periodEnd quantity } } }"""
CHANGE = """mutation($input: ChangeSubscriptionQuantityInput!) {
  changeSubscriptionQuantity(input: $input) { errors { field code message } } }"""


async def september_subscription(client: GraphQLClient, tenants: Tenants) -> tuple[str, int]:
    program = await create_program(client)
    product = await create_product(client, program)
    customer = await create_customer(client, tenants.a.gid)
    data = await client.data(
        "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
        " subscription { id } errors { code } } }",
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": 4,
                "startDate": "2026-09-01",
            }
        },
    )
    gid: str = data["createSubscription"]["subscription"]["id"]
    return gid, int(base64.b64decode(gid).decode().partition(":")[2])


async def bill(client: GraphQLClient) -> dict[str, Any]:
    data = await client.data(
        "mutation($m: String!) { runBilling(input: { month: $m }) {"
        " issued { id } errors { message } } }",
        {"m": MONTH},
    )
    result: dict[str, Any] = data["runBilling"]
    return result


async def test_a_change_committed_while_the_run_is_under_way_is_on_the_invoice(
    client: GraphQLClient,
    tenants: Tenants,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, pk = await september_subscription(client, tenants)
    find = billing._partners_to_bill
    changed: list[object] = []

    async def find_then_change(*args: Any) -> list[int]:
        partners = await find(*args)
        if not changed:  # the run has started; now a change commits before it bills
            changed.append(
                await database.run(
                    change_quantity,
                    Scope(all_partners=True),
                    pk,
                    quantity=6,
                    effective_from=billing.Period.parse_month(MONTH).start.replace(day=11),
                )
            )
        return partners

    monkeypatch.setattr(billing, "_partners_to_bill", find_then_change)
    run = await bill(client)

    assert not isinstance(changed[0], list), changed  # the change was accepted...
    (issued,) = run["issued"]
    lines = (await client.data(LINES, {"id": issued["id"]}))["invoice"]["lines"]
    # ...so it is billed: 4 seats to the 10th, 6 from the 11th
    assert [(line["periodStart"], line["quantity"]) for line in lines] == [
        ("2026-09-01", "4"),
        ("2026-09-11", "6"),
    ]


@pytest.mark.skipif(not postgres_requested(), reason="real row locks: PostgreSQL only")
async def test_a_change_during_a_run_waits_for_it_and_is_refused_as_invoiced(
    client: GraphQLClient,
    tenants: Tenants,
    sync_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gid, _ = await september_subscription(client, tenants)
    write = billing._write_invoice
    late: list[asyncio.Task[dict[str, Any]]] = []

    async def write_while_a_change_comes(*args: Any) -> None:
        # The run has read partner A's month under its lock; a change for that month arrives.
        task = asyncio.create_task(
            client.data(
                CHANGE, {"input": {"id": gid, "quantity": 6, "effectiveFrom": "2026-09-11"}}
            )
        )
        late.append(task)
        deadline = time.monotonic() + 10
        while sessions_waiting_on_a_lock(sync_engine) < 1:
            assert not task.done(), f"the change did not wait for the run: {task.result()}"
            assert time.monotonic() < deadline, "the change never reached the lock"
            await asyncio.sleep(0.01)  # let the request run up to the lock
        await write(*args)

    monkeypatch.setattr(billing, "_write_invoice", write_while_a_change_comes)
    run = await bill(client)
    refused = (await late[0])["changeSubscriptionQuantity"]

    (issued,) = run["issued"]
    lines = (await client.data(LINES, {"id": issued["id"]}))["invoice"]["lines"]
    assert [line["quantity"] for line in lines] == ["4"]  # as read: the change came later
    assert [e["code"] for e in refused["errors"]] == ["CONFLICT"]
    assert "already invoiced" in refused["errors"][0]["message"]
