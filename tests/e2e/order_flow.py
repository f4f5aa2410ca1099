"""The order flow both PSAs' end-to-end tests bill: a new customer's order from the 10th of
next month (10 monthly seats, 2 annual), mapped to the PSA's contract, then 14 seats from the
20th and the month billed, then 12 from the 5th of the next month and that month billed, each
issued invoice's events delivered to the worker (S5, O2-O7, P3)."""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.integration.orders.support import (
    CHANGE_QUANTITY,
    SUBMIT_DETAILS,
    Catalogue,
    create_order,
    order_input,
    start_next_month,
    submit_order,
)
from tests.integration.sync.mapping_support import add_customer
from tests.support.clock import freeze, noon_utc
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import month_of


@dataclass(frozen=True)
class Billed:
    """The two months' invoices (with their lines) and the monthly seats' SKU."""

    invoices: list[dict[str, Any]]
    months: tuple[date, date]
    sku: str


def invoiced_per_day(invoice: dict[str, Any], sku: str, month: date) -> list[int]:
    """The invoice's quantity of `sku` on each day of the month (0 where no line covers it)."""
    first, last = month_of(month)
    out = []
    for i in range((last - first).days + 1):
        day = (first + timedelta(days=i)).isoformat()
        out.append(
            sum(
                int(line["quantity"])
                for line in invoice["lines"]
                if line["sku"] == sku and line["periodStart"] <= day <= line["periodEnd"]
            )
        )
    return out


async def bill_an_order_over_two_months(
    api: GraphQLClient,
    tenants: Tenants,
    catalogue: Catalogue,
    program: str,
    *,
    map_customer: Callable[[str], Awaitable[None]],
    deliver: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> Billed:
    msp = api.as_(tenants.a.admin)
    distributor = api.as_(tenants.distributor.admin)
    customer = await add_customer(
        api, tenants.a.admin, program, "Woodgrove Dental", tenant="woodgrove.onmicrosoft.com"
    )
    start = start_next_month(10)
    order = await create_order(msp, customer, **order_input(catalogue, start))
    assert order["errors"] == []
    submitted = await submit_order(msp, order["order"]["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == []
    monthly = next(
        line["subscription"]["id"]
        for line in submitted["order"]["lines"]
        if line["subscription"] is not None and line["billingTerm"] == "MONTHLY"
    )
    await map_customer(customer)

    async def change_then_bill(quantity: int, effective: date) -> dict[str, Any]:
        """A quantity change, then the month billed once it is over (billing is in arrears
        and orders start in the future: the calendar moves on), and the events delivered."""
        changed = await msp.data(
            CHANGE_QUANTITY,
            {
                "input": {
                    "id": monthly,
                    "quantity": quantity,
                    "effectiveFrom": effective.isoformat(),
                }
            },
        )
        assert changed["changeSubscriptionQuantity"]["errors"] == []
        month, end = month_of(effective)
        freeze(monkeypatch, noon_utc(end + timedelta(days=1)))
        billed = await distributor.data(
            "mutation($m: String!) { runBilling(input: { month: $m }) {"
            " issued { id } errors { message } } }",
            {"m": f"{month:%Y-%m}"},
        )
        assert billed["runBilling"]["errors"] == []
        deliver()
        return billed

    first_month = month_of(start)[0]
    billed = await change_then_bill(14, start.replace(day=20))
    next_month = month_of(first_month + timedelta(days=32))[0]
    billed_next = await change_then_bill(12, next_month.replace(day=5))

    invoices = []
    for issued in (billed, billed_next):
        (entry,) = issued["runBilling"]["issued"]
        invoice = await msp.data(
            "query($id: ID!) { invoice(id: $id) { id lines { sku kind billingTerm periodStart"
            " periodEnd quantity } } }",
            {"id": entry["id"]},
        )
        invoices.append(invoice["invoice"])
    sku = next(
        line["sku"]
        for line in invoices[0]["lines"]
        if line["billingTerm"] == "MONTHLY" and line["kind"] == "SUBSCRIPTION"
    )
    days_first = calendar.monthrange(first_month.year, first_month.month)[1]
    assert invoiced_per_day(invoices[0], sku, first_month) == (
        [0] * 9 + [10] * 10 + [14] * (days_first - 19)
    )
    return Billed(invoices, (first_month, next_month), sku)
