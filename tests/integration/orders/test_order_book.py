"""A customer's contacts whose role opens the Order Book see their own customer's submitted
orders at the prices they pay (the RRP), never the partner's costs; a role without it, and
what shows the partner's costs, is refused with the reason, never answered with silence
(SPEC R7, O3)."""

from __future__ import annotations

from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine, update

from prism_tables.catalogue import ProductPrice
from tests.integration.contacts.support import (
    ADD_CUSTOMER_CONTACT,
    REQUEST_SIGN_IN,
    SET_ROLE,
    SIGN_IN,
    VERIFY,
    link_token,
    mutate,
)
from tests.integration.orders.conftest import Mailbox
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

ORDER_BOOK = """query($c: ID) { orders(customerId: $c) { totalCount edges { node {
  id status priceBasis currency ongoingMonthlyPayment annualPayment oneTimeFees firstPayment
  lines { sku quantity unitPrice amount } } } } }"""


def _latest_to(mailbox: Mailbox, address: str) -> EmailMessage:
    return [m for m in mailbox.deliver() if m["To"] == address][-1]


async def _contact_token(
    staff: GraphQLClient,
    anonymous: GraphQLClient,
    mailbox: Mailbox,
    customer: str,
    email: str,
    role: str,
) -> str:
    added = await mutate(
        staff,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Pat", "email": email},
    )
    assert added["errors"] == [], added
    verified = await mutate(anonymous, VERIFY, token=link_token(_latest_to(mailbox, email)))
    assert verified["errors"] == [], verified
    if role != "UNASSIGNED":
        set_role = await mutate(staff, SET_ROLE, input={"id": added["contact"]["id"], "role": role})
        assert set_role["errors"] == [], set_role
    assert (await mutate(anonymous, REQUEST_SIGN_IN, email=email))["errors"] == []
    signed = await mutate(anonymous, SIGN_IN, token=link_token(_latest_to(mailbox, email)))
    assert signed["errors"] == [], signed
    token: str = signed["accessToken"]
    return token


async def _submitted_order(
    distributor: GraphQLClient, staff: GraphQLClient, tenants: Tenants, name: str = "Fabrikam"
) -> tuple[Any, str, str]:
    catalogue = await make_catalogue(distributor)
    customer = await new_prospect(staff, tenants, name)
    start = start_next_month(1)  # a whole first month: first payment = a month + year + fee
    order = (await create_order(staff, customer, **order_input(catalogue, start)))["order"]
    submitted = await submit_order(staff, order["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == [], submitted
    return catalogue, customer, order["id"]


async def test_primary_and_billing_contacts_see_their_submitted_orders_at_their_prices(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    sync_engine: Engine,
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    _, customer, order_id = await _submitted_order(client, staff, tenants)
    draft_customer_order = (await create_order(staff, customer, permittedUsers=3))["order"]
    assert draft_customer_order["status"] == "DRAFT"
    _, other_customer, other_order = await _submitted_order(client, staff, tenants, "Tailspin")

    domain = tenants.a.domain  # a PRIMARY contact has an address on the partner's domain
    for role, email in (("PRIMARY", f"pat@{domain}"), ("BILLING", f"bo@{domain}")):
        contact = anonymous.as_(
            await _contact_token(staff, anonymous, mailbox, customer, email, role)
        )

        book = (await contact.data(ORDER_BOOK, {"c": customer}))["orders"]
        everything = (await contact.data(ORDER_BOOK, {"c": None}))["orders"]
        foreign = await contact.data(
            "query($id: ID!) { order(id: $id) { id } node(id: $id) { id } }", {"id": other_order}
        )

        # their own submitted order only (not the partner's draft, not another customer's)
        assert book["totalCount"] == 1 and everything == book, role
        (order,) = [edge["node"] for edge in book["edges"]]
        assert order["id"] == order_id
        assert foreign == {"order": None, "node": None}
        # at the RRP: 10 x 9.50 a month, 2 x 140.00 a year, the 200.00 fee
        assert order["priceBasis"] == "CUSTOMER_PRICE"
        assert [(line["unitPrice"], line["amount"]) for line in order["lines"]] == [
            ("9.50", "95.00"),
            ("140.00", "280.00"),
            ("200.00", "200.00"),
        ]
        assert (order["ongoingMonthlyPayment"], order["annualPayment"], order["oneTimeFees"]) == (
            "95.00",
            "280.00",
            "200.00",
        )
        assert order["firstPayment"] == "575.00"
        assert other_customer != customer

    # the partner's staff see the same order at the partner's cost
    staff_view = (await staff.data(ORDER_BOOK, {"c": customer}))["orders"]
    assert staff_view["totalCount"] == 2  # the draft too
    submitted = next(e["node"] for e in staff_view["edges"] if e["node"]["id"] == order_id)
    assert submitted["priceBasis"] == "PARTNER_COST"
    assert [line["unitPrice"] for line in submitted["lines"]] == ["8.10", "120.00", "150.00"]
    assert submitted["ongoingMonthlyPayment"] == "81.00"


async def test_a_submitted_order_keeps_the_customer_price_it_was_agreed_at(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    sync_engine: Engine,
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    _, customer, _ = await _submitted_order(client, staff, tenants)
    contact = anonymous.as_(
        await _contact_token(
            staff, anonymous, mailbox, customer, f"pat@{tenants.a.domain}", "PRIMARY"
        )
    )
    with sync_engine.begin() as conn:  # the price list changes after the submit
        conn.execute(update(ProductPrice).values(rrp=Decimal("99.00"), buy_price=Decimal("88.00")))

    (edge,) = (await contact.data(ORDER_BOOK, {"c": customer}))["orders"]["edges"]
    (staff_edge,) = [
        e
        for e in (await staff.data(ORDER_BOOK, {"c": customer}))["orders"]["edges"]
        if e["node"]["status"] == "SUBMITTED"
    ]

    assert [line["unitPrice"] for line in edge["node"]["lines"]] == ["9.50", "140.00", "200.00"]
    assert [line["unitPrice"] for line in staff_edge["node"]["lines"]] == [
        "8.10",
        "120.00",
        "150.00",
    ]


@pytest.mark.parametrize("role", ["SUPPORT", "TECHNICAL", "UNASSIGNED"])
async def test_a_role_without_the_order_book_is_refused_with_the_reason(
    role: str, client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    _, customer, order_id = await _submitted_order(client, staff, tenants)
    contact = anonymous.as_(
        await _contact_token(staff, anonymous, mailbox, customer, f"sam@{tenants.a.domain}", role)
    )

    listed = await contact.post(ORDER_BOOK, {"c": customer})
    one = await contact.post("query($id: ID!) { order(id: $id) { id } }", {"id": order_id})

    for body in (listed, one):
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["message"] == (
            f"Your contact role ({role}) does not open the Order Book; it is open to PRIMARY "
            "and BILLING contacts."
        )
        assert not any((body["data"] or {}).values())  # nothing of the order answered


async def test_what_shows_the_partners_costs_is_refused_to_contacts(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    _, customer, order_id = await _submitted_order(client, staff, tenants)
    contact = anonymous.as_(
        await _contact_token(
            staff, anonymous, mailbox, customer, f"pat@{tenants.a.domain}", "PRIMARY"
        )
    )

    attachments = await contact.post(
        "query($c: ID!) { customerAttachments(customerId: $c) { id } }", {"c": customer}
    )
    documents = await contact.post(
        "query($id: ID!) { order(id: $id) { id addendum { id } rfi { expiresAt } "
        "lines { sku product { id } } } }",
        {"id": order_id},
    )

    staff_only = "This is for the partner's staff; customer contacts cannot use it."
    assert [(e["message"], e["extensions"]["code"]) for e in attachments["errors"]] == [
        (staff_only, "FORBIDDEN")
    ]
    paths = sorted(tuple(e["path"]) for e in documents["errors"])
    assert paths == [
        ("order", "addendum"),
        ("order", "lines", 0, "product"),
        ("order", "lines", 1, "product"),
        ("order", "lines", 2, "product"),
        ("order", "rfi"),
    ]
    assert {e["message"] for e in documents["errors"]} == {staff_only}
    # the rest of the order still answers, with the partner's documents left out
    order = documents["data"]["order"]
    assert order["id"] == order_id and order["addendum"] is None and order["rfi"] is None
    assert [line["sku"] for line in order["lines"]] != []


async def test_the_partners_invoices_are_refused_to_a_billing_contact(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    staff = anonymous.as_(tenants.a.admin)
    customer = await new_prospect(staff, tenants, "Fabrikam")
    contact = anonymous.as_(
        await _contact_token(
            staff, anonymous, mailbox, customer, f"bo@{tenants.a.domain}", "BILLING"
        )
    )

    body = await contact.post("{ invoices(first: 5) { edges { node { id } } } }")

    (error,) = body["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        "This is for the partner's staff; customer contacts cannot use it.",
        "FORBIDDEN",
    )
