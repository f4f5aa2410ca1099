"""The monthly billing run through the API (P3, C5): one invoice per partner and program,
prorated lines, usage, fees and adjustments, `invoice.issued` in the outbox, the BILLING
contacts' mail with the invoice attached, and nothing issued twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.periods import Period
from prism_graph.billing.run import run_billing
from prism_graph.database import Database
from prism_platform.mail import MailAttachment, MailMessage
from prism_tables.billing import Invoice
from prism_tables.outbox import OutboxEvent
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

MONTH = "2026-10"

RUN = """
mutation($input: RunBillingInput!) {
  runBilling(input: $input) {
    issued { id number partner { name } total }
    alreadyIssued
    errors { field code message }
  }
}
"""

INVOICES = """
query { invoices(first: 10) { totalCount edges { node {
  number periodStart periodEnd currency total partner { name } program { name }
  lines { kind sku customer { name } periodStart periodEnd quantity unitCost unitPrice amount
          description }
} } } }
"""


async def count(database: Database, model: Any, *where: Any) -> int:
    async with AsyncSession(database.engine) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_run_issues_one_invoice_per_partner_with_prorated_lines(
    client: GraphQLClient, tenants: Tenants, database: Database, month_of_activity: dict[str, str]
) -> None:
    run = await client.data(RUN, {"input": {"month": MONTH}})

    assert run["runBilling"]["errors"] == []
    assert sorted(i["partner"]["name"] for i in run["runBilling"]["issued"]) == [
        "Partner A",
        "Partner B",
    ]
    listed = await client.as_(tenants.a.admin).data(INVOICES)
    assert listed["invoices"]["totalCount"] == 1  # a partner sees its own invoice only
    invoice = listed["invoices"]["edges"][0]["node"]
    assert (invoice["periodStart"], invoice["periodEnd"]) == ("2026-10-01", "2026-10-31")
    lines = [
        (ln["kind"], ln["sku"], ln["periodStart"], ln["periodEnd"], ln["quantity"], ln["amount"])
        for ln in invoice["lines"]
    ]
    assert lines == [
        # 10 x 10.00 x 15/31 = 48.387 and 15 x 10.00 x 16/31 = 77.419, each rounded once
        ("SUBSCRIPTION", "M365-BP", "2026-10-01", "2026-10-15", "10", "48.39"),
        ("SUBSCRIPTION", "M365-BP", "2026-10-16", "2026-10-31", "15", "77.42"),
        ("USAGE", "AZURE-PLAN", "2026-10-01", "2026-10-31", "19.75", "19.75"),
        ("ONE_TIME_FEE", "ONBOARD", "2026-10-01", "2026-10-01", "1", "99.00"),
        ("ADJUSTMENT", None, "2026-10-20", "2026-10-20", "1", "-5.00"),
    ]
    assert invoice["total"] == "239.56"
    assert invoice["lines"][0]["customer"] == {"name": "Fabrikam"}
    assert await count(database, OutboxEvent, OutboxEvent.type == "invoice.issued") == 2


async def test_the_billing_contacts_get_the_invoice_attached(
    client: GraphQLClient, tenants: Tenants, database: Database, month_of_activity: dict[str, str]
) -> None:
    await client.data(RUN, {"input": {"month": MONTH}})

    async with AsyncSession(database.engine) as session:
        mail = (
            await session.scalars(
                select(MailMessage).where(MailMessage.template == "invoice_issued")
            )
        ).one()
        attachment = (await session.scalars(select(MailAttachment))).one()
    assert mail.to_addresses == [f"billing@{tenants.a.domain}"]
    assert attachment.content_type == "application/pdf"
    assert attachment.filename.endswith(".pdf")
    assert attachment.content.startswith(b"%PDF-")


async def test_running_a_month_again_issues_nothing_twice(
    client: GraphQLClient, database: Database, month_of_activity: dict[str, str]
) -> None:
    await client.data(RUN, {"input": {"month": MONTH}})

    again = await client.data(RUN, {"input": {"month": MONTH}})

    assert again["runBilling"]["issued"] == []
    assert again["runBilling"]["alreadyIssued"] == 2
    assert await count(database, Invoice) == 2
    assert await count(database, OutboxEvent, OutboxEvent.type == "invoice.issued") == 2
    assert await count(database, MailMessage, MailMessage.template == "invoice_issued") == 1


async def test_two_runs_at_once_issue_each_invoice_once(
    database: Database, month_of_activity: dict[str, str]
) -> None:
    period = Period.parse_month(MONTH)

    runs = await asyncio.gather(run_billing(database, period), run_billing(database, period))

    assert sum(len(r.issued) for r in runs) == 2
    assert sum(r.already_issued for r in runs) == 2
    assert await count(database, Invoice) == 2
    assert await count(database, OutboxEvent, OutboxEvent.type == "invoice.issued") == 2


async def test_an_invoiced_month_is_closed_to_changes(
    client: GraphQLClient, month_of_activity: dict[str, str]
) -> None:
    await client.data(RUN, {"input": {"month": MONTH}})

    data = await client.data(
        "mutation($input: ChangeSubscriptionQuantityInput!) { changeSubscriptionQuantity("
        "input: $input) { errors { field code } } }",
        {
            "input": {
                "id": month_of_activity["subscription"],
                "quantity": 1,
                "effectiveFrom": "2026-10-20",
            }
        },
    )

    assert data["changeSubscriptionQuantity"]["errors"] == [
        {"field": "input.effectiveFrom", "code": "CONFLICT"}
    ]


async def test_only_the_distributor_runs_billing(
    client: GraphQLClient, tenants: Tenants, database: Database, month_of_activity: dict[str, str]
) -> None:
    refused = await client.as_(tenants.a.admin).post(RUN, {"input": {"month": MONTH}})

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["data"] is None
    assert await count(database, Invoice) == 0


@pytest.mark.parametrize(
    "month",
    [
        "October",
        "2026-13",
        "2026-00",
        "0000-01",
        "2026-1",
        "2026-10-01",
        "202610",
        "",
        "\u0662\u0660\u0662\u0666-\u0661\u0660",  # Arabic-Indic digits
    ],
)
async def test_a_month_not_written_yyyy_mm_is_refused_on_the_field_and_bills_nothing(
    client: GraphQLClient, database: Database, month_of_activity: dict[str, str], month: str
) -> None:
    run = await client.data(RUN, {"input": {"month": month}})

    assert run["runBilling"] == {
        "issued": [],
        "alreadyIssued": 0,
        "errors": [
            {
                "field": "input.month",
                "code": "INVALID",
                "message": "Give the month as YYYY-MM, e.g. 2026-10.",
            }
        ],
    }
    assert await count(database, Invoice) == 0
    assert await count(database, OutboxEvent) == await count(
        database, OutboxEvent, OutboxEvent.type != "invoice.issued"
    )
    assert await count(database, MailMessage, MailMessage.template == "invoice_issued") == 0


@pytest.mark.parametrize("month", ["2099-01", "9999-12"])
async def test_a_month_that_is_not_over_is_refused_on_the_field_and_bills_nothing(
    client: GraphQLClient, database: Database, month_of_activity: dict[str, str], month: str
) -> None:
    run = await client.data(RUN, {"input": {"month": month}})

    (error,) = run["runBilling"]["errors"]
    assert (error["field"], error["code"]) == ("input.month", "OUT_OF_RANGE")
    assert error["message"].startswith(f"{month} is not over yet")
    assert run["runBilling"]["issued"] == []
    assert await count(database, Invoice) == 0


async def test_run_billing_takes_its_month_only_inside_its_input(client: GraphQLClient) -> None:
    loose = await client.post('mutation { runBilling(month: "2026-10") { alreadyIssued } }')

    assert "Unknown argument 'month'" in loose["errors"][0]["message"]


async def test_the_invoice_lines_are_also_csv_through_the_api(
    client: GraphQLClient, month_of_activity: dict[str, str]
) -> None:
    run = await client.data(RUN, {"input": {"month": MONTH}})
    first = run["runBilling"]["issued"][0]["id"]

    data = await client.data("query($id: ID!) { invoice(id: $id) { number csv } }", {"id": first})
    renamed = await client.post("query($id: ID!) { invoice(id: $id) { document } }", {"id": first})

    csv = data["invoice"]["csv"]
    assert csv.splitlines()[0].startswith("invoice,partner,program,customer,kind")
    assert data["invoice"]["number"] in csv
    assert "Cannot query field 'document'" in renamed["errors"][0]["message"]


async def test_the_total_count_is_of_every_page_of_the_filtered_invoices(
    client: GraphQLClient, month_of_activity: dict[str, str]
) -> None:
    await client.data(RUN, {"input": {"month": MONTH}})
    query = (
        "query($month: String) { invoices(first: 1, month: $month) { totalCount"
        " edges { node { number } } pageInfo { hasNextPage } } }"
    )

    october = await client.data(query, {"month": MONTH})
    september = await client.data(query, {"month": "2026-09"})

    assert october["invoices"]["totalCount"] == 2
    assert len(october["invoices"]["edges"]) == 1 and october["invoices"]["pageInfo"]["hasNextPage"]
    assert september["invoices"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False},
    }
