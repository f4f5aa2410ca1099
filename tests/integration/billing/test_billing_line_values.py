"""The billing run writes an invoice's lines in one bulk write (a COPY on PostgreSQL): the
values that write must carry through unchanged come back from the API as given, text with
the characters a COPY treats specially (backslash, the NULL marker, the end-of-data marker),
a NULL SKU and a negative amount."""

from __future__ import annotations

import pytest

from tests.integration.billing.conftest import mutate
from tests.integration.billing.test_billing_run import INVOICES, MONTH, RUN
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

# (A description's tabs and newlines are made spaces when it is recorded, so none get here.)
AWKWARD = 'Credit for "outage", \\N \\. \\ back\\slash é ✓'


async def test_line_values_come_back_as_written(
    client: GraphQLClient, tenants: Tenants, month_of_activity: dict[str, str]
) -> None:
    await mutate(
        client,
        "addAdjustment",
        {
            "customerId": month_of_activity["fabrikam"],
            "programId": month_of_activity["program"],
            "day": "2026-10-21",
            "amount": "-12.34",
            "description": AWKWARD,
        },
    )

    run = await client.data(RUN, {"input": {"month": MONTH}})

    assert run["runBilling"]["errors"] == []
    listed = await client.as_(tenants.a.admin).data(INVOICES)
    lines = listed["invoices"]["edges"][0]["node"]["lines"]
    awkward = [ln for ln in lines if ln["description"] == AWKWARD]
    assert len(awkward) == 1
    assert (awkward[0]["kind"], awkward[0]["sku"], awkward[0]["amount"]) == (
        "ADJUSTMENT",
        None,
        "-12.34",
    )
    assert [ln["description"] for ln in lines if ln["kind"] == "ADJUSTMENT"] == [
        "Goodwill credit",
        AWKWARD,
    ]
