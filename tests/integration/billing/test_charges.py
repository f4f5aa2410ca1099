"""Usage records, one-time fees and adjustments through the API (P3): their amounts are money
text in the program's currency, as an invoice line's are: exact, with at least the currency's
minor unit (two decimals for AUD, none for JPY, three for KWD), a finer unit price kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

RECORD_USAGE = """
mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  usage { day quantity unitCost unitPrice } errors { field code message } } }
"""
ADD_FEE = """
mutation($input: AddOneTimeFeeInput!) { addOneTimeFee(input: $input) {
  charge { kind sku quantity amount } errors { field code message } } }
"""
ADD_ADJUSTMENT = """
mutation($input: AddAdjustmentInput!) { addAdjustment(input: $input) {
  charge { kind quantity amount description } errors { field code message } } }
"""
INVOICE_LINES = """
query { invoices(first: 1) { edges { node { currency lines { kind unitCost amount } } } } }
"""


async def payload(client: GraphQLClient, query: str, name: str, input: dict[str, Any]) -> Any:
    data = await client.data(query, {"input": input})
    assert data[name]["errors"] == [], data[name]["errors"]
    return data[name]


@pytest.mark.parametrize(
    ("currency", "prices", "shown"),
    [
        # (usage cost, usage price, fee cost, adjustment) -> as the API shows them
        ("AUD", ("1.5", "2", "12.5", "-5"), ("1.50", "2.00", "25.00", "-5.00")),
        ("JPY", ("150", "180", "1200", "-500"), ("150", "180", "2400", "-500")),
        ("KWD", ("1.25", "1.5", "12.5", "-0.5"), ("1.250", "1.500", "25.000", "-0.500")),
        ("AUD", ("0.0125", "0.02", "0.0125", "-0.0125"), ("0.0125", "0.02", "0.025", "-0.0125")),
    ],
)
async def test_charge_and_usage_amounts_have_the_currency_s_minor_unit(
    client: GraphQLClient,
    tenants: Tenants,
    currency: str,
    prices: tuple[str, str, str, str],
    shown: tuple[str, str, str, str],
) -> None:
    usage_cost, usage_price, fee_cost, adjustment = prices
    program = await create_program(client, currency=currency)
    metered = await create_product(
        client, program, kind="USAGE", buy_price=usage_cost, rrp=usage_price
    )
    fee = await create_product(
        client, program, kind="ONE_TIME_FEE", buy_price=fee_cost, rrp=fee_cost
    )
    customer = await create_customer(client, tenants.a.gid)
    day = "2026-10-05"

    usage = await payload(
        client,
        RECORD_USAGE,
        "recordUsage",
        {"customerId": customer, "productId": metered, "day": day, "quantity": "3"},
    )
    charged = await payload(
        client,
        ADD_FEE,
        "addOneTimeFee",
        {"customerId": customer, "productId": fee, "day": day, "quantity": 2},
    )
    adjusted = await payload(
        client,
        ADD_ADJUSTMENT,
        "addAdjustment",
        {
            "customerId": customer,
            "programId": program,
            "day": day,
            "amount": adjustment,
            "description": "Goodwill",
        },
    )

    assert (usage["usage"]["unitCost"], usage["usage"]["unitPrice"]) == shown[:2]
    assert usage["usage"]["quantity"] == "3"  # a quantity, not money: no padding
    assert charged["charge"]["amount"] == shown[2]
    assert adjusted["charge"]["amount"] == shown[3]


async def test_a_fee_s_amount_reads_as_its_invoice_line_does(
    client: GraphQLClient, tenants: Tenants
) -> None:
    program = await create_program(client, currency="KWD")
    fee = await create_product(client, program, kind="ONE_TIME_FEE", buy_price="7", rrp="9")
    customer = await create_customer(client, tenants.a.gid)
    charged = await payload(
        client,
        ADD_FEE,
        "addOneTimeFee",
        {"customerId": customer, "productId": fee, "day": "2026-10-05", "quantity": 3},
    )
    run = await client.data(
        'mutation { runBilling(input: { month: "2026-10" }) { errors { field code message } } }'
    )
    assert run["runBilling"]["errors"] == []

    (invoice,) = (await client.data(INVOICE_LINES))["invoices"]["edges"]
    (line,) = invoice["node"]["lines"]
    assert invoice["node"]["currency"] == "KWD"
    assert (line["kind"], line["unitCost"], line["amount"]) == ("ONE_TIME_FEE", "7.000", "21.000")
    assert charged["charge"]["amount"] == line["amount"]
