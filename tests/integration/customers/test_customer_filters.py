"""The Prospect List and In Progress screens: customers filtered by status and by program,
with the same search, paging and totalCount as the whole list (SPEC O1, O2)."""

from __future__ import annotations

import pytest

from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    new_prospect,
    order_input,
    program_of,
    start_next_month,
    submit_order,
)
from tests.support.catalogue import create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

FILTERED = """query($s: [CustomerStatus!], $p: ID) {
  customers(status: $s, programId: $p, first: 10) { totalCount edges { node { name status } } } }"""


async def test_customers_filter_by_status_and_program(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    catalogue = await make_catalogue(client)
    other_program = await create_program(client, "SPLA filter test", "AUD")
    prospect = await new_prospect(staff, tenants, "Prospect Pty")
    await create_order(staff, prospect, permittedUsers=2)  # a saved draft keeps it a prospect
    ordered = await new_prospect(staff, tenants, "Ordered Pty")
    order = await create_order(staff, ordered, **order_input(catalogue, start_next_month()))
    assert (await submit_order(staff, order["order"]["id"], **SUBMIT_DETAILS))["errors"] == []

    async def names(**variables: object) -> tuple[int, list[tuple[str, str]]]:
        page = (await staff.data(FILTERED, variables))["customers"]
        return page["totalCount"], [(e["node"]["name"], e["node"]["status"]) for e in page["edges"]]

    assert await names(s=["PROSPECT"]) == (1, [("Prospect Pty", "PROSPECT")])
    assert await names(s=["IN_PROGRESS"]) == (1, [("Ordered Pty", "IN_PROGRESS")])
    assert (await names(s=["PROSPECT", "IN_PROGRESS"]))[0] == 2
    assert await names(s=["ACTIVE"]) == (0, [])
    # by program: the submitted order subscribed it to the catalogue's program
    program_of_order = await program_of(staff, catalogue.monthly)
    assert await names(p=program_of_order) == (1, [("Ordered Pty", "IN_PROGRESS")])
    assert await names(p=other_program) == (0, [])
    # another partner's staff see none of them
    other = anonymous.as_(tenants.b.admin)
    assert (await other.data(FILTERED, {"s": ["PROSPECT", "IN_PROGRESS"]}))["customers"][
        "totalCount"
    ] == 0
