"""CSV price-list import through the API (P1): dry run, per-row errors, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_graph.database import Database
from prism_tables.catalogue import Product
from prism_tables.outbox import OutboxEvent
from tests.support.catalogue import create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

IMPORT = """
mutation($input: ImportPriceListInput!) {
  importPriceList(input: $input) {
    applied created updated retired unchangedCount
    priceChanges { sku oldBuyPrice oldRrp newBuyPrice newRrp }
    rowErrors { row column code message }
    warnings { row column code }
    errors { field code message }
  }
}
"""

HEADER = "SKU,Name,Buy Price,RRP,Billing Term,Kind,Description\n"


async def run_import(client: GraphQLClient, program: str, csv: str, **flags: Any) -> dict[str, Any]:
    data = await client.data(
        IMPORT,
        {"input": {"programId": program, "csv": csv, "effectiveFrom": "2026-12-01", **flags}},
    )
    payload: dict[str, Any] = data["importPriceList"]
    return payload


async def product_count(database: Database) -> int:
    async with AsyncSession(database.engine) as session:
        return int(await session.scalar(select(func.count()).select_from(Product)) or 0)


async def price_events(database: Database) -> int:
    async with AsyncSession(database.engine) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.type == "product.price_changed")
            )
            or 0
        )


async def test_a_dry_run_reports_what_would_change_and_writes_nothing(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    await create_product(
        client, program, sku="M365-BB", name="Business Basic", buy_price="8.10", rrp="9.00"
    )
    await create_product(
        client, program, sku="M365-BS", name="Business Standard", buy_price="16.20", rrp="18.00"
    )
    csv = (
        HEADER
        + "M365-BB,Business Basic,8.50,9.40,monthly,licence,\n"
        + "M365-BS,Business Standard,16.20,18.00,MONTHLY,LICENCE,\n"
        + "AZ-PLAN,Azure plan,1,1,MONTHLY,USAGE,Pay as you go\n"
    )

    report = await run_import(client, program, csv)

    assert report["applied"] is False
    assert report["created"] == ["AZ-PLAN"]
    assert report["priceChanges"] == [
        {
            "sku": "M365-BB",
            "oldBuyPrice": "8.10",
            "oldRrp": "9.00",
            "newBuyPrice": "8.50",
            "newRrp": "9.40",
        }
    ]
    assert report["unchangedCount"] == 1
    assert report["errors"] == [] and report["rowErrors"] == []
    assert await product_count(database) == 2
    assert await price_events(database) == 2


async def test_an_import_applies_the_changes_with_their_events(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    product = await create_product(client, program, sku="M365-BB", name="Business Basic")
    csv = (
        HEADER
        + "M365-BB,Business Basic,8.50,9.40,MONTHLY,LICENCE,\nAZ-PLAN,Azure plan,1,1,MONTHLY,USAGE,\n"
    )

    report = await run_import(client, program, csv, dryRun=False)
    again = await run_import(client, program, csv, dryRun=False)
    history = await client.data(
        "query($id: ID!) { product(id: $id) { priceHistory { effectiveFrom rrp } } }",
        {"id": product},
    )

    assert report["applied"] is True
    assert again["applied"] is False and again["unchangedCount"] == 2
    assert history["product"]["priceHistory"] == [
        {"effectiveFrom": "2026-01-01", "rrp": "9.00"},
        {"effectiveFrom": "2026-12-01", "rrp": "9.40"},
    ]
    assert await product_count(database) == 2
    assert await price_events(database) == 1 + 2  # first prices, the change, the new SKU


async def test_bad_rows_are_reported_per_row_and_nothing_is_imported(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    csv = (
        HEADER
        + "GOOD-1,Good,1.00,2.00,MONTHLY,LICENCE,\n"
        + "BAD 2,Bad,abc,2.00,WEEKLY,LICENCE,\n"
        + "GOOD-1,Twice,1.00,2.00,MONTHLY,LICENCE,\n"
    )

    report = await run_import(client, program, csv, dryRun=False)

    assert report["applied"] is False
    assert {(e["row"], e["column"], e["code"]) for e in report["rowErrors"]} == {
        (3, "sku", "INVALID"),
        (3, "buy_price", "INVALID"),
        (3, "billing_term", "INVALID"),
        (4, "sku", "DUPLICATE"),
    }
    assert [e["code"] for e in report["errors"]] == ["INVALID"]
    assert await product_count(database) == 0


async def test_allow_partial_imports_the_good_rows_and_reports_the_bad(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    csv = HEADER + "GOOD-1,Good,1.00,0.50,MONTHLY,LICENCE,\nBAD-2,Bad,,2.00,MONTHLY,LICENCE,\n"

    report = await run_import(client, program, csv, dryRun=False, allowPartial=True)

    assert report["applied"] is True
    assert report["created"] == ["GOOD-1"]
    assert [(e["row"], e["column"], e["code"]) for e in report["rowErrors"]] == [
        (3, "buy_price", "REQUIRED")
    ]
    assert [(w["row"], w["code"]) for w in report["warnings"]] == [(2, "BELOW_COST")]
    assert await product_count(database) == 1


async def test_a_whole_list_retires_missing_skus_only_when_asked(
    client: GraphQLClient, database: Database
) -> None:
    program = await create_program(client)
    await create_product(client, program, sku="KEEP", name="Keep", buy_price="1", rrp="2")
    await create_product(client, program, sku="GONE", name="Gone", buy_price="1", rrp="2")
    csv = HEADER + "KEEP,Keep,1,2,MONTHLY,LICENCE,\n"

    partial = await run_import(client, program, csv)
    whole = await run_import(client, program, csv, retireMissing=True, dryRun=False)
    listed = await client.data("{ products(first: 10) { edges { node { sku } } } }")

    assert partial["retired"] == []
    assert whole["retired"] == ["GONE"]
    assert [e["node"]["sku"] for e in listed["products"]["edges"]] == ["KEEP"]


async def test_a_partner_may_not_import(client: GraphQLClient, tenants: Tenants) -> None:
    program = await create_program(client)
    body = await client.as_(tenants.a.admin).post(
        IMPORT, {"input": {"programId": program, "csv": HEADER}}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_unknown_program_is_a_field_error(client: GraphQLClient) -> None:
    report = await run_import(client, "UHJvZ3JhbTo5OTk5", HEADER)
    assert report["errors"] == [
        {"field": "input.programId", "code": "NOT_FOUND", "message": "No such program."}
    ]
