"""Prospects and orders through the API (SPEC O2-O7)."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, update

from prism_platform.db import utcnow
from prism_platform.mail import MailMessage
from prism_tables.billing import Charge
from prism_tables.orders import CustomerAttachment, Order, RfiRequest
from prism_tables.subscriptions import Subscription
from tests.integration.orders.conftest import Mailbox
from tests.integration.orders.support import (
    ERRORS,
    RFI_ANSWERS,
    SUBMIT_DETAILS,
    create_order,
    days_in_month,
    make_catalogue,
    new_prospect,
    order_input,
    pdf_text,
    rfi_token,
    save_order,
    start_next_month,
    submit_order,
)
from tests.support.catalogue import create_product, create_program
from tests.support.clock import freeze, noon_utc
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = pytest.mark.integration


def _count(engine: Engine, stmt: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())  # type: ignore[call-overload]


async def test_a_saved_order_prices_from_contracted_prices_and_leaves_a_prospect(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    # given a catalogue and a prospect of partner A
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants, "Contoso Pty Ltd")
    start = start_next_month(17)

    # when partner A saves an order for it
    created = await create_order(a_admin, prospect, **order_input(catalogue, start))

    # then it is a priced draft and the prospect stays a prospect (O2, O3)
    assert created["errors"] == []
    order = created["order"]
    assert order["status"] == "DRAFT"
    assert order["customer"]["status"] == "PROSPECT"
    assert order["companyName"] == "Contoso Pty Ltd"
    assert order["msp"]["name"] == "Partner A"
    assert order["permittedUsers"] == 10
    month = days_in_month(start)
    days = month - start.day + 1
    prorated = (Decimal("81.00") * days / month).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    assert order["currency"] == "AUD"
    assert order["ongoingMonthlyPayment"] == "81.00"
    assert order["annualPayment"] == "240.00"
    assert order["oneTimeFees"] == "150.00"
    assert Decimal(order["firstPayment"]) == prorated + Decimal("240.00") + Decimal("150.00")
    assert [(line["sku"] != "", line["amount"]) for line in order["lines"]] == [
        (True, "81.00"),
        (True, "240.00"),
        (True, "150.00"),
    ]
    assert order["lines"][0]["firstPaymentAmount"] == str(prorated)
    assert order["lines"][1]["billingTerm"] == "ANNUAL"

    # and saving again changes the draft only
    saved = await save_order(a_admin, order["id"], permittedUsers=12, orderNumber="PO-1")
    assert saved["errors"] == []
    assert saved["order"]["permittedUsers"] == 12
    assert saved["order"]["orderNumber"] == "PO-1"
    assert saved["order"]["customer"]["status"] == "PROSPECT"
    drafts = await a_admin.data(
        "query($c: ID!) { orders(customerId: $c, status: DRAFT) { edges { node { id } } } }",
        {"c": prospect},
    )
    assert [e["node"]["id"] for e in drafts["orders"]["edges"]] == [order["id"]]


async def test_submitting_without_the_order_details_is_a_field_error_per_item(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]

    # when submitted with none of the order details, but a last change to the users
    refused = await submit_order(a_admin, order["id"], permittedUsers=99)

    # then each missing item is its own error (O4) and nothing is saved, not even the change
    assert refused["order"] is None
    assert {(e["field"], e["code"]) for e in refused["errors"]} == {
        ("input.orderNumber", "REQUIRED"),
        ("input.msaAcknowledged", "REQUIRED"),
        ("input.authorisedAcknowledged", "REQUIRED"),
    }
    after = await a_admin.data(
        "query($id: ID!) { order(id: $id) { status permittedUsers customer { status } } }",
        {"id": order["id"]},
    )
    assert after["order"] == {
        "status": "DRAFT",
        "permittedUsers": 10,
        "customer": {"status": "PROSPECT"},
    }
    assert _count(sync_engine, select(func.count()).select_from(Subscription)) == 0
    assert _count(sync_engine, select(func.count()).select_from(CustomerAttachment)) == 0
    assert _count(sync_engine, select(func.count()).select_from(MailMessage)) == 0

    # "order number not required" replaces the number; a past start date and no products fail
    refused = await submit_order(
        a_admin,
        order["id"],
        orderNumberNotRequired=True,
        msaAcknowledged=True,
        authorisedAcknowledged=False,
        startDate="2020-01-01",
        lines=[],
    )
    assert {(e["field"], e["code"]) for e in refused["errors"]} == {
        ("input.authorisedAcknowledged", "REQUIRED"),
        ("input.startDate", "OUT_OF_RANGE"),
        ("input.lines", "REQUIRED"),
    }


async def test_a_submitted_order_makes_a_customer_subscriptions_an_addendum_and_two_mails(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    sync_engine: Engine,
) -> None:
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants, "Contoso Pty Ltd")
    start = start_next_month(17)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start)))["order"]

    submitted = await submit_order(a_admin, order["id"], **SUBMIT_DETAILS)

    # then the prospect is an in-progress customer with the subscriptions (O2, O7)
    assert submitted["errors"] == []
    result = submitted["order"]
    assert result["status"] == "SUBMITTED"
    assert result["customer"]["status"] == "IN_PROGRESS"
    assert result["submittedBy"] == f"admin <admin@{tenants.a.domain}>"
    subscriptions = [line["subscription"] for line in result["lines"]]
    assert subscriptions[2] is None  # the one-time fee is charged once, not subscribed
    assert [(s["quantity"], s["billingTerm"], s["startDate"]) for s in subscriptions[:2]] == [
        (10, "MONTHLY", start.isoformat()),
        (2, "ANNUAL", start.isoformat()),
    ]
    # and the addendum is an attachment on the customer (O5)
    assert result["addendum"]["contentType"] == "application/pdf"
    listed = await a_admin.data(
        "query($c: ID!) { customerAttachments(customerId: $c) { id filename contentBase64 } }",
        {"c": prospect},
    )
    (attachment,) = listed["customerAttachments"]
    stored = base64.b64decode(attachment["contentBase64"])
    assert stored.startswith(b"%PDF")
    text = pdf_text(stored)
    for expected in ("PO-4471", "Contoso Pty Ltd", "Partner A", "81.00", "150.00", "Lee Chen"):
        assert expected in text, expected

    # and two mails really arrive (O5)
    messages = {m["To"]: m for m in mailbox.deliver()}
    assert set(messages) == {f"admin@{tenants.a.domain}", "lee.chen@contoso.example"}
    to_msp = messages[f"admin@{tenants.a.domain}"]
    (pdf_part,) = list(to_msp.iter_attachments())
    assert pdf_part.get_content_type() == "application/pdf"
    assert pdf_part.get_filename() == attachment["filename"]
    assert pdf_part.get_content() == stored
    assert "PO-4471" in str(to_msp.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    to_lead = messages["lee.chen@contoso.example"]
    lead_text = str(to_lead.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert "Request for Information" in lead_text
    token = rfi_token(lead_text)

    # and the RFI is completed through its link, once (O6)
    form = await anonymous.data(
        "query($t: String!) { rfiForm(token: $t) { form { companyName mspName orderReference"
        f" completedAt }} {ERRORS} }} }}",
        {"t": token},
    )
    assert form["rfiForm"]["errors"] == []
    assert form["rfiForm"]["form"]["companyName"] == "Contoso Pty Ltd"
    assert form["rfiForm"]["form"]["mspName"] == "Partner A"
    done = await anonymous.data(
        "mutation($input: SubmitRfiInput!) { submitRfi(input: $input) {"
        f" form {{ completedAt answers {{ domains userCount mailPlatform }} }} {ERRORS} }} }}",
        {"input": {"token": token, "answers": RFI_ANSWERS}},
    )
    assert done["submitRfi"]["errors"] == []
    assert done["submitRfi"]["form"]["answers"] == {
        "domains": ["contoso.example", "contoso-mail.example"],
        "userCount": 10,
        "mailPlatform": "MICROSOFT_365",
    }
    again = await anonymous.data(
        f"mutation($input: SubmitRfiInput!) {{ submitRfi(input: $input) {{ {ERRORS} }} }}",
        {"input": {"token": token, "answers": RFI_ANSWERS}},
    )
    assert [e["code"] for e in again["submitRfi"]["errors"]] == ["ALREADY_USED"]
    seen = await a_admin.data(
        "query($id: ID!) { order(id: $id) { rfi { completedAt answers { technicalContactEmail } } } }",
        {"id": order["id"]},
    )
    assert seen["order"]["rfi"]["answers"] == {"technicalContactEmail": "sam.ortiz@contoso.example"}


async def test_the_first_invoice_bills_what_the_order_quoted_one_time_fee_included(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """O4, P3: the order's one-time fees are charged once, on the start date, so the first
    month's invoice carries them at the quoted amount."""
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants)
    start = start_next_month(10)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start)))["order"]
    submitted = await submit_order(a_admin, order["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == []

    month_end = start.replace(day=days_in_month(start))
    freeze(monkeypatch, noon_utc(month_end + timedelta(days=1)))
    billed = await client.data(
        "mutation($m: String!) { runBilling(input: { month: $m }) {"
        " issued { id } errors { message } } }",
        {"m": f"{start:%Y-%m}"},
    )
    assert billed["runBilling"]["errors"] == []
    (issued,) = billed["runBilling"]["issued"]
    invoice = await a_admin.data(
        "query($id: ID!) { invoice(id: $id) { lines { kind sku periodStart quantity amount } } }",
        {"id": issued["id"]},
    )
    fees = [line for line in invoice["invoice"]["lines"] if line["kind"] == "ONE_TIME_FEE"]
    assert [(f["periodStart"], f["quantity"], f["amount"]) for f in fees] == [
        (start.isoformat(), "1", submitted["order"]["oneTimeFees"])
    ]


async def test_submitting_twice_or_concurrently_creates_nothing_twice(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]

    # when two submits race (a double click), then a third comes later (a retry)
    first, second = await asyncio.gather(
        submit_order(a_admin, order["id"], **SUBMIT_DETAILS),
        submit_order(a_admin, order["id"], **SUBMIT_DETAILS),
    )
    third = await submit_order(a_admin, order["id"], **SUBMIT_DETAILS)

    # then each answers with the one submitted order, and everything exists once
    for payload in (first, second, third):
        assert payload["errors"] == []
        assert payload["order"]["status"] == "SUBMITTED"
    assert (
        first["order"]["submittedAt"]
        == second["order"]["submittedAt"]
        == third["order"]["submittedAt"]
    )
    assert _count(sync_engine, select(func.count()).select_from(Subscription)) == 2
    assert _count(sync_engine, select(func.count()).select_from(Charge)) == 1  # the fee
    assert _count(sync_engine, select(func.count()).select_from(CustomerAttachment)) == 1
    assert _count(sync_engine, select(func.count()).select_from(RfiRequest)) == 1
    assert _count(sync_engine, select(func.count()).select_from(MailMessage)) == 2
    # and a submitted order can no longer be saved
    refused = await save_order(a_admin, order["id"], permittedUsers=3)
    assert [e["code"] for e in refused["errors"]] == ["CONFLICT"]


async def test_the_partner_completes_the_rfi_and_an_expired_link_is_refused(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    sync_engine: Engine,
) -> None:
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]
    await submit_order(a_admin, order["id"], **SUBMIT_DETAILS)
    lead_mail = next(m for m in mailbox.deliver() if m["To"] == "lee.chen@contoso.example")
    token = rfi_token(str(lead_mail.get_body(preferencelist=("plain",)).get_content()))  # type: ignore[union-attr]

    # an invalid form is a field error per item
    bad = await a_admin.data(
        "mutation($input: CompleteOrderRfiInput!) { completeOrderRfi(input: $input) {"
        f" {ERRORS} }} }}",
        {
            "input": {
                "orderId": order["id"],
                "answers": {**RFI_ANSWERS, "domains": ["not a domain"], "archiveSource": None},
            }
        },
    )
    assert {(e["field"], e["code"]) for e in bad["completeOrderRfi"]["errors"]} == {
        ("input.answers.domains[0]", "INVALID"),
        ("input.answers.archiveSource", "REQUIRED"),
    }

    # when the link expires, it is refused with a clear error
    with sync_engine.begin() as conn:
        conn.execute(update(RfiRequest).values(expires_at=utcnow()))
    expired = await anonymous.data(
        f"query($t: String!) {{ rfiForm(token: $t) {{ form {{ companyName }} {ERRORS} }} }}",
        {"t": token},
    )
    assert expired["rfiForm"]["form"] is None
    (error,) = expired["rfiForm"]["errors"]
    assert (error["field"], error["code"]) == ("token", "EXPIRED")
    assert "expired" in error["message"]
    unknown = await anonymous.data(f'query {{ rfiForm(token: "prism_rfi_nope") {{ {ERRORS} }} }}')
    assert [e["code"] for e in unknown["rfiForm"]["errors"]] == ["NOT_FOUND"]

    # and the partner completes it right after ordering, signed in (O6)
    done = await a_admin.data(
        "mutation($input: CompleteOrderRfiInput!) { completeOrderRfi(input: $input) {"
        f" order {{ rfi {{ completedBy answers {{ userCount }} }} }} {ERRORS} }} }}",
        {"input": {"orderId": order["id"], "answers": RFI_ANSWERS}},
    )
    assert done["completeOrderRfi"]["errors"] == []
    assert done["completeOrderRfi"]["order"]["rfi"]["answers"] == {"userCount": 10}


async def test_partner_b_neither_sees_nor_submits_partner_a_orders(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    catalogue = await make_catalogue(client)
    a_admin = anonymous.as_(tenants.a.admin)
    b_admin = anonymous.as_(tenants.b.admin)
    prospect = await new_prospect(a_admin, tenants)
    order = (await create_order(a_admin, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]

    seen = await b_admin.data(
        "query($id: ID!, $c: ID!) { order(id: $id) { id } node(id: $id) { id }"
        " orders(customerId: $c) { edges { node { id } } } customerAttachments(customerId: $c) { id } }",
        {"id": order["id"], "c": prospect},
    )
    assert seen == {
        "order": None,
        "node": None,
        "orders": {"edges": []},
        "customerAttachments": [],
    }
    for name, payload in (
        ("submitOrder", await submit_order(b_admin, order["id"], **SUBMIT_DETAILS)),
        ("saveOrder", await save_order(b_admin, order["id"], permittedUsers=1)),
    ):
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("input.id", "NOT_FOUND")
        ], name
    stolen = await create_order(b_admin, prospect, **order_input(catalogue, start_next_month()))
    assert [(e["field"], e["code"]) for e in stolen["errors"]] == [
        ("input.customerId", "NOT_FOUND")
    ]
    with sync_engine.connect() as conn:
        assert conn.execute(select(Order.status)).scalars().all() == ["DRAFT"]
    # an id of B reads as not found on A's side too
    assert gid("Order", 10**9) != order["id"]


async def test_a_product_without_a_price_in_force_on_the_start_date_is_a_line_error(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    program = await create_program(client)
    future = await create_product(client, program, effective_from="2099-01-01")
    a_admin = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(a_admin, tenants)

    refused = await create_order(
        a_admin,
        prospect,
        permittedUsers=5,
        startDate=start_next_month().isoformat(),
        lines=[{"productId": future, "quantity": 5}],
    )

    assert refused["order"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("input.lines[0].productId", "NOT_FOUND")
    ]
    assert "no price in force" in refused["errors"][0]["message"]
