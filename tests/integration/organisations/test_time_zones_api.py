"""Whose today (issue 12): each organisation has a time zone, and every business "today"
is the date in the zone of the organisation the rule is about: the distributor's for
billing and its price list, the ordering partner's for an order's start date and its prices.
The API's clock is stopped with `tests.support.clock.freeze`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    order_input,
    submit_order,
)
from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.clock import freeze
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

SYDNEY = ZoneInfo("Australia/Sydney")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

SET_TIME_ZONE = """
mutation($input: SetTimeZoneInput!) {
  setTimeZone(input: $input) {
    organisation { id timeZone ownTimeZone }
    errors { field code message }
  }
}
"""


async def set_time_zone(
    client: GraphQLClient, organisation: str, zone: str | None
) -> dict[str, Any]:
    data = await client.data(SET_TIME_ZONE, {"input": {"id": organisation, "timeZone": zone}})
    payload: dict[str, Any] = data["setTimeZone"]
    return payload


async def zone_of(client: GraphQLClient, organisation: str) -> tuple[str, str | None]:
    data = await client.data(
        "query($id: ID!) { node(id: $id) { ... on Organisation { timeZone ownTimeZone } } }",
        {"id": organisation},
    )
    node = data["node"]
    return node["timeZone"], node["ownTimeZone"]


# -- the setting ------------------------------------------------------------------------------


async def test_an_organisation_works_in_utc_until_a_zone_is_set_and_partners_follow_the_distributor(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    # Given nothing set: everyone works in UTC
    assert await zone_of(client, tenants.distributor.gid) == ("UTC", None)
    assert await zone_of(client, tenants.a.gid) == ("UTC", None)
    # When the distributor's admin sets the distributor's zone
    payload = await set_time_zone(client, tenants.distributor.gid, "Australia/Sydney")
    assert payload["errors"] == []
    assert payload["organisation"]["timeZone"] == "Australia/Sydney"
    # Then a partner without its own zone follows it
    a_admin = anonymous.as_(tenants.a.admin)
    me = await a_admin.data("query { me { organisation { timeZone ownTimeZone } } }")
    assert me["me"]["organisation"] == {"timeZone": "Australia/Sydney", "ownTimeZone": None}
    # When partner A's admin sets A's own zone, A works in it; B still follows the distributor
    payload = await set_time_zone(a_admin, tenants.a.gid, "America/Los_Angeles")
    assert payload["errors"] == []
    assert await zone_of(client, tenants.a.gid) == ("America/Los_Angeles", "America/Los_Angeles")
    assert await zone_of(client, tenants.b.gid) == ("Australia/Sydney", None)
    # And removing it (null) makes A follow the distributor again
    payload = await set_time_zone(client, tenants.a.gid, None)
    assert payload["organisation"] == {
        "id": tenants.a.gid,
        "timeZone": "Australia/Sydney",
        "ownTimeZone": None,
    }


async def test_an_unknown_zone_is_refused_on_the_field_and_changes_nothing(
    client: GraphQLClient, tenants: Tenants
) -> None:
    await set_time_zone(client, tenants.a.gid, "Europe/London")
    for wrong in ("Mars/Olympus_Mons", "america/los_angeles", "localtime", "+10:00"):
        payload = await set_time_zone(client, tenants.a.gid, wrong)
        assert payload["organisation"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("input.timeZone", "INVALID")
        ], wrong
    assert await zone_of(client, tenants.a.gid) == ("Europe/London", "Europe/London")


async def test_a_partner_admin_sets_only_its_own_zone_and_members_none(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    a_admin = anonymous.as_(tenants.a.admin)
    for other in (tenants.b.gid, tenants.distributor.gid):
        payload = await set_time_zone(a_admin, other, "Asia/Tokyo")
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("input.id", "NOT_FOUND")]
    member = await anonymous.as_(tenants.a.member).post(
        SET_TIME_ZONE, {"input": {"id": tenants.a.gid, "timeZone": "Asia/Tokyo"}}
    )
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The distributor's admin may set any partner's
    assert (await set_time_zone(client, tenants.b.gid, "Asia/Tokyo"))["errors"] == []
    assert await zone_of(client, tenants.b.gid) == ("Asia/Tokyo", "Asia/Tokyo")
    assert await zone_of(client, tenants.distributor.gid) == ("UTC", None)


# -- billing: a month is over when it is over in the distributor's zone -----------------------

RUN_BILLING = """
mutation($month: String!) { runBilling(input: { month: $month }) { errors { field code message } } }
"""


async def run_billing_errors(client: GraphQLClient, month: str) -> list[str]:
    data = await client.data(RUN_BILLING, {"month": month})
    return [e["code"] for e in data["runBilling"]["errors"]]


async def test_a_sydney_distributor_bills_october_from_its_own_midnight(
    client: GraphQLClient, tenants: Tenants, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_time_zone(client, tenants.distributor.gid, "Australia/Sydney")
    # One minute before midnight in Sydney (31 October, 12:59 UTC): October is not over
    freeze(monkeypatch, datetime(2026, 10, 31, 23, 59, tzinfo=SYDNEY))
    assert await run_billing_errors(client, "2026-10") == ["OUT_OF_RANGE"]
    # At 00:30 on 1 November in Sydney (still 31 October, 13:30, in UTC) it can be billed
    freeze(monkeypatch, datetime(2026, 11, 1, 0, 30, tzinfo=SYDNEY))
    assert datetime(2026, 11, 1, 0, 30, tzinfo=SYDNEY) == datetime(2026, 10, 31, 13, 30, tzinfo=UTC)
    assert await run_billing_errors(client, "2026-10") == []


async def test_a_distributor_in_utc_still_waits_for_utc_midnight(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(monkeypatch, datetime(2026, 10, 31, 13, 30, tzinfo=UTC))
    assert await run_billing_errors(client, "2026-10") == ["OUT_OF_RANGE"]


# -- orders: the earliest start date is the ordering partner's today ---------------------------


async def test_a_partner_in_los_angeles_orders_from_today_at_8pm_when_utc_is_already_tomorrow(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalogue = await make_catalogue(client)
    await set_time_zone(client, tenants.a.gid, "America/Los_Angeles")
    # 20:00 on 10 November in Los Angeles is 04:00 on 11 November in UTC
    evening = datetime(2026, 11, 10, 20, 0, tzinfo=LOS_ANGELES)
    assert evening.astimezone(UTC).date() == date(2026, 11, 11)
    freeze(monkeypatch, evening)
    today = date(2026, 11, 10)

    a_admin = anonymous.as_(tenants.a.admin)
    customer = await create_customer(a_admin, tenants.a.gid)
    order = (await create_order(a_admin, customer, **order_input(catalogue, today)))["order"]
    submitted = await submit_order(a_admin, order["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == []
    assert submitted["order"]["startDate"] == "2026-11-10"

    # Partner B works in UTC (the distributor's default): for it the 10th is already past
    b_admin = anonymous.as_(tenants.b.admin)
    other = await create_customer(b_admin, tenants.b.gid)
    late = (await create_order(b_admin, other, **order_input(catalogue, today)))["order"]
    refused = await submit_order(b_admin, late["id"], **SUBMIT_DETAILS)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("input.startDate", "OUT_OF_RANGE")
    ]


# -- the price list: the distributor's today for defaults, the caller's for "prices now" ------


async def test_prices_default_to_the_distributors_day_and_read_on_the_callers_day(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await set_time_zone(client, tenants.distributor.gid, "Australia/Sydney")
    await set_time_zone(client, tenants.a.gid, "America/Los_Angeles")
    # 04:00 UTC on 11 November: the 11th in Sydney, still the 10th in Los Angeles
    freeze(monkeypatch, datetime(2026, 11, 11, 4, 0, tzinfo=UTC))
    program = await create_program(client)
    product = await create_product(client, program, buy_price="8.00", rrp="9.00")
    # A new price list imported without a date applies from the distributor's today
    changed = await client.data(
        "mutation($input: ImportPriceListInput!) { importPriceList(input: $input) {"
        " errors { field code message } } }",
        {
            "input": {
                "programId": program,
                "csv": await price_list_csv(client, product, "8.50"),
                "dryRun": False,
            }
        },
    )
    assert changed["importPriceList"]["errors"] == []
    history = await price_of(client, product, "priceHistory { effectiveFrom buyPrice }")
    assert history["priceHistory"][-1]["effectiveFrom"] == "2026-11-11"
    # "The price now": the distributor's today is the 11th, partner A's still the 10th
    assert (await price_of(client, product, "price { buyPrice }"))["price"]["buyPrice"] == "8.50"
    a_price = await price_of(anonymous.as_(tenants.a.admin), product, "price { buyPrice }")
    assert a_price["price"]["buyPrice"] == "8.00"


async def price_of(client: GraphQLClient, product: str, fields: str) -> dict[str, Any]:
    data = await client.data(
        f"query($id: ID!) {{ product(id: $id) {{ {fields} }} }}", {"id": product}
    )
    found: dict[str, Any] = data["product"]
    return found


async def price_list_csv(client: GraphQLClient, product: str, buy_price: str) -> str:
    data = await client.data(
        "query($id: ID!) { product(id: $id) { sku name billingTerm kind } }", {"id": product}
    )
    p = data["product"]
    row = [p["sku"], p["name"], buy_price, "9.00", p["billingTerm"], p["kind"]]
    return "sku,name,buy_price,rrp,billing_term,kind\n" + ",".join(row) + "\n"
