"""O2/O4 under concurrency: two submits of one order that really race create everything once.

Submit locks the order row (`SELECT ... FOR UPDATE`) before it reads the status; here a third
connection holds that lock until both submits are waiting on it, so they are released into
the race together, and the one that comes second finds the order submitted.
"""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from sqlalchemy import Engine, func, select, text

from prism_platform.mail import MailMessage
from prism_tables.orders import CustomerAttachment, Order, RfiRequest
from prism_tables.subscriptions import Subscription
from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    new_prospect,
    order_input,
    start_next_month,
    submit_order,
)
from tests.support.backends import postgres_requested
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration


def sessions_waiting_on_a_lock(engine: Engine) -> int:
    with engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.skipif(not postgres_requested(), reason="real row locks: PostgreSQL only")
async def test_two_submits_released_together_submit_once(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]
    pk = int(base64.b64decode(order["id"]).decode().partition(":")[2])

    with sync_engine.connect() as holder:
        holder.execute(select(Order.id).where(Order.id == pk).with_for_update())
        submits = [
            asyncio.create_task(submit_order(a_admin, order["id"], **SUBMIT_DETAILS))
            for _ in range(2)
        ]
        deadline = time.monotonic() + 10
        while sessions_waiting_on_a_lock(sync_engine) < 2:
            assert not any(s.done() for s in submits), "a submit did not wait for the lock"
            assert time.monotonic() < deadline, "the submits never reached the lock"
            await asyncio.sleep(0.01)  # let both requests run up to the lock
        holder.rollback()  # release them together

    first, second = await asyncio.gather(*submits)
    assert first["errors"] == [] and second["errors"] == []
    assert first["order"]["submittedAt"] == second["order"]["submittedAt"]
    assert count(sync_engine, Subscription) == 2
    assert count(sync_engine, CustomerAttachment) == 1
    assert count(sync_engine, RfiRequest) == 1
    assert count(sync_engine, MailMessage) == 2
