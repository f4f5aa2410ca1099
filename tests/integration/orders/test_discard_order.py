"""A draft order can be thrown away; a submitted one, another partner's or an unknown one
cannot, and a refusal changes nothing (SPEC O2)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from prism_tables.orders import Order, OrderLine
from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    new_prospect,
    order_input,
    start_next_month,
    submit_order,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

DISCARD = """mutation($id: ID!) { discardOrder(input: {id: $id}) {
  discardedId errors { field code message } } }"""


def _rows(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        orders = conn.execute(select(func.count()).select_from(Order)).scalar_one()
        lines = conn.execute(select(func.count()).select_from(OrderLine)).scalar_one()
    return int(orders), int(lines)


async def test_a_draft_is_discarded_and_a_submitted_order_is_not(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    catalogue = await make_catalogue(client)
    prospect = await new_prospect(staff, tenants, "Draft Pty")
    draft = await create_order(staff, prospect, **order_input(catalogue, start_next_month()))
    submitted = await create_order(staff, prospect, **order_input(catalogue, start_next_month()))
    assert (await submit_order(staff, submitted["order"]["id"], **SUBMIT_DETAILS))["errors"] == []
    before = _rows(sync_engine)

    refused = (await staff.data(DISCARD, {"id": submitted["order"]["id"]}))["discardOrder"]
    foreign = (await anonymous.as_(tenants.b.admin).data(DISCARD, {"id": draft["order"]["id"]}))[
        "discardOrder"
    ]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("input.id", "CONFLICT")]
    assert [(e["field"], e["code"]) for e in foreign["errors"]] == [("input.id", "NOT_FOUND")]
    assert refused["discardedId"] is None and foreign["discardedId"] is None
    assert _rows(sync_engine) == before

    done = (await staff.data(DISCARD, {"id": draft["order"]["id"]}))["discardOrder"]
    again = (await staff.data(DISCARD, {"id": draft["order"]["id"]}))["discardOrder"]

    assert done == {"discardedId": draft["order"]["id"], "errors": []}
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("input.id", "NOT_FOUND")]
    assert _rows(sync_engine) == (before[0] - 1, before[1] - 3)
    seen = await staff.data(
        "query($id: ID!) { order(id: $id) { id } }", {"id": draft["order"]["id"]}
    )
    assert seen == {"order": None}
    customer = await staff.data(
        "query($id: ID!) { customer(id: $id) { status } }", {"id": prospect}
    )
    assert customer["customer"]["status"] == "IN_PROGRESS"  # the submitted order's, unchanged


async def test_a_customer_shows_its_orders_and_attachments(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    catalogue = await make_catalogue(client)
    customer = await new_prospect(staff, tenants, "Shown Pty")
    draft = (await create_order(staff, customer, permittedUsers=2))["order"]
    submitted = await create_order(staff, customer, **order_input(catalogue, start_next_month()))
    done = await submit_order(staff, submitted["order"]["id"], **SUBMIT_DETAILS)
    assert done["errors"] == []
    query = """query($id: ID!) { customer(id: $id) {
      orders { id status } attachments { filename contentType } } }"""

    seen = (await staff.data(query, {"id": customer}))["customer"]
    foreign = (await anonymous.as_(tenants.b.admin).data(query, {"id": customer}))["customer"]

    assert seen["orders"] == [
        {"id": submitted["order"]["id"], "status": "SUBMITTED"},
        {"id": draft["id"], "status": "DRAFT"},
    ]
    assert [a["contentType"] for a in seen["attachments"]] == ["application/pdf"]
    assert seen["attachments"][0]["filename"] == done["order"]["addendum"]["filename"]
    assert foreign is None
