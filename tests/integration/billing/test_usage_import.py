"""Usage records imported from a CSV file through the API (P3, N1): a dry run first, a report
per row, nothing recorded while a row is bad (unless asked), and a file imported twice
counted once on the invoice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_graph.database import Database
from prism_tables.billing import UsageRecord
from tests.support.catalogue import create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

IMPORT = """
mutation($input: ImportUsageInput!) {
  importUsage(input: $input) {
    applied rows created replaced unchanged
    rowErrors { row column code message }
    errors { field code message }
  }
}
"""

INVOICE_LINES = """
query { invoices(first: 10) { edges { node {
  lines { kind sku customer { name } quantity amount }
} } } }
"""


async def import_usage(client: GraphQLClient, program: str, csv: str, **options: Any) -> Any:
    data = await client.data(IMPORT, {"input": {"programId": program, "csv": csv, **options}})
    return data["importUsage"]


async def new_customer(client: GraphQLClient, partner: str, name: str, domain: str) -> str:
    data = await client.data(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {"
        " customer { id } errors { code } } }",
        {"input": {"name": name, "domain": domain, "partnerId": partner}},
    )
    customer: str = data["createCustomer"]["customer"]["id"]
    return customer


async def recorded(database: Database) -> list[tuple[int, str, str]]:
    async with AsyncSession(database.engine) as session:
        rows = await session.execute(
            select(UsageRecord.customer_id, UsageRecord.day, UsageRecord.quantity).order_by(
                UsageRecord.customer_id, UsageRecord.day
            )
        )
        return [(c, d.isoformat(), f"{q.normalize():f}") for c, d, q in rows]


async def usage_count(database: Database) -> int:
    async with AsyncSession(database.engine) as session:
        return int(await session.scalar(select(func.count()).select_from(UsageRecord)) or 0)


@pytest.fixture
async def usage(client: GraphQLClient, tenants: Tenants) -> dict[str, str]:
    """Given a program with a metered Azure plan and a licence, partner A's Fabrikam
    (fabrikam.example) and partner B's Litware."""
    program = await create_program(client, "Microsoft CSP", "AUD")
    await create_product(
        client,
        program,
        sku="AZURE-PLAN",
        name="Azure plan",
        kind="USAGE",
        buy_price="1.00",
        rrp="1.20",
    )
    await create_product(client, program, sku="M365-BP", name="Business Premium")
    return {
        "program": program,
        "fabrikam": await new_customer(client, tenants.a.gid, "Fabrikam", "fabrikam.example"),
        "litware": await new_customer(client, tenants.b.gid, "Litware", "litware.example"),
    }


async def test_a_dry_run_then_the_import_then_the_same_file_again_counts_once(
    client: GraphQLClient, tenants: Tenants, database: Database, usage: dict[str, str]
) -> None:
    csv = (
        "Customer,SKU,Day,Quantity\n"
        "fabrikam.example,AZURE-PLAN,2026-10-03,12.5\n"
        f"{usage['litware']},azure-plan,2026-10-04,7.25\n"
    )

    dry = await import_usage(client, usage["program"], csv)
    after_dry_run = await usage_count(database)
    first = await import_usage(client, usage["program"], csv, dryRun=False)
    again = await import_usage(client, usage["program"], csv, dryRun=False)
    corrected = await import_usage(
        client, usage["program"], csv.replace("12.5", "10"), dryRun=False
    )
    await client.data('mutation { runBilling(input: { month: "2026-10" }) { errors { code } } }')
    invoice = await client.as_(tenants.a.admin).data(INVOICE_LINES)

    assert (dry["applied"], dry["rows"], dry["created"], dry["rowErrors"]) == (False, 2, 2, [])
    assert after_dry_run == 0
    assert (first["applied"], first["created"], first["errors"]) == (True, 2, [])
    assert (again["applied"], again["created"], again["unchanged"]) == (False, 0, 2)
    assert (corrected["applied"], corrected["replaced"], corrected["unchanged"]) == (True, 1, 1)
    assert [q for _, _, q in await recorded(database)] == ["10", "7.25"]
    lines = invoice["invoices"]["edges"][0]["node"]["lines"]
    assert lines == [
        {
            "kind": "USAGE",
            "sku": "AZURE-PLAN",
            "customer": {"name": "Fabrikam"},
            "quantity": "10",
            "amount": "10.00",
        }
    ]


async def test_bad_rows_are_reported_by_row_and_nothing_is_recorded_unless_asked(
    client: GraphQLClient, database: Database, usage: dict[str, str]
) -> None:
    csv = (
        "customer,sku,day,quantity\n"
        "fabrikam.example,AZURE-PLAN,2026-10-03,5\n"  # row 2: good
        "nobody.example,AZURE-PLAN,2026-10-03,1\n"
        "fabrikam.example,NOPE,2026-10-03,1\n"
        "fabrikam.example,M365-BP,2026-10-03,1\n"
        "fabrikam.example,AZURE-PLAN,31/10/2026,1\n"
        "fabrikam.example,AZURE-PLAN,2026-10-05,lots\n"
        "FABRIKAM.example,azure-plan,2026-10-03,2\n"  # the same customer, SKU and day as row 2
        "fabrikam.example,AZURE-PLAN,2026-10-06\n"
    )

    refused = await import_usage(client, usage["program"], csv, dryRun=False)
    nothing = await usage_count(database)
    partial = await import_usage(client, usage["program"], csv, dryRun=False, allowPartial=True)

    assert refused["applied"] is False
    assert [(e["row"], e["column"], e["code"]) for e in refused["rowErrors"]] == [
        (3, "customer", "NOT_FOUND"),
        (4, "sku", "NOT_FOUND"),
        (5, "sku", "INVALID"),
        (6, "day", "INVALID"),
        (7, "quantity", "INVALID"),
        (8, None, "DUPLICATE"),
        (9, None, "INVALID"),
    ]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("input.csv", "INVALID")]
    assert "nothing was recorded" in refused["errors"][0]["message"]
    assert nothing == 0
    assert (partial["applied"], partial["created"], len(partial["rowErrors"])) == (True, 1, 7)
    assert [(d, q) for _, d, q in await recorded(database)] == [("2026-10-03", "5")]


async def test_an_invoiced_month_a_bad_header_and_a_partner_are_refused(
    client: GraphQLClient, tenants: Tenants, database: Database, usage: dict[str, str]
) -> None:
    await client.data('mutation { runBilling(input: { month: "2026-09" }) { errors { code } } }')
    await import_usage(
        client,
        usage["program"],
        "customer,sku,day,quantity\nfabrikam.example,AZURE-PLAN,2026-09-30,1\n",
        dryRun=False,
    )  # September is not invoiced for Fabrikam's partner yet: there was nothing to bill
    await client.data('mutation { runBilling(input: { month: "2026-09" }) { errors { code } } }')

    closed = await import_usage(
        client,
        usage["program"],
        "customer,sku,day,quantity\nfabrikam.example,AZURE-PLAN,2026-09-29,3\n",
        dryRun=False,
    )
    header = await import_usage(client, usage["program"], "customer,sku,when,qty\n")
    partner = await client.as_(tenants.a.admin).post(
        IMPORT, {"input": {"programId": usage["program"], "csv": "customer,sku,day,quantity\n"}}
    )
    unknown = await import_usage(client, usage["fabrikam"], "customer,sku,day,quantity\n")

    assert [(e["row"], e["code"]) for e in closed["rowErrors"]] == [(2, "CONFLICT")]
    assert {(e["row"], e["column"], e["code"]) for e in header["rowErrors"]} == {
        (1, "when", "INVALID"),
        (1, "qty", "INVALID"),
        (1, "day", "REQUIRED"),
        (1, "quantity", "REQUIRED"),
    }
    assert partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [
        ("input.programId", "NOT_FOUND")
    ]
    assert [q for _, _, q in await recorded(database)] == ["1"]


async def test_two_imports_of_one_file_at_once_record_it_once(
    client: GraphQLClient, database: Database, usage: dict[str, str]
) -> None:
    csv = "customer,sku,day,quantity\n" + "".join(
        f"fabrikam.example,AZURE-PLAN,2026-10-{day:02d},{day}\n" for day in range(1, 11)
    )

    results = await asyncio.gather(
        *(import_usage(client, usage["program"], csv, dryRun=False) for _ in range(3))
    )

    assert [r["errors"] for r in results] == [[], [], []]
    assert all(r["rows"] == 10 for r in results)
    assert await usage_count(database) == 10


async def test_simultaneous_recordings_of_one_day_keep_one_record(
    client: GraphQLClient, database: Database, usage: dict[str, str]
) -> None:
    products = await client.data(
        'query { products(first: 10, search: "AZURE") { edges { node { id sku } } } }'
    )
    azure = products["products"]["edges"][0]["node"]["id"]

    results = await asyncio.gather(
        *(
            client.data(
                "mutation($input: RecordUsageInput!) { recordUsage(input: $input) {"
                " usage { quantity } errors { code } } }",
                {
                    "input": {
                        "customerId": usage["fabrikam"],
                        "productId": azure,
                        "day": "2026-10-07",
                        "quantity": str(quantity),
                    }
                },
            )
            for quantity in (1, 2, 3)
        )
    )

    assert [r["recordUsage"]["errors"] for r in results] == [[], [], []]
    assert [r["recordUsage"]["usage"]["quantity"] for r in results] == ["1", "2", "3"]
    assert await usage_count(database) == 1
