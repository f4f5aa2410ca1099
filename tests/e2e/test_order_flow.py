"""The seed's order flow, end to end through the GraphQL API alone, with the mails a real
local SMTP server receives (SPEC O2-O7; seed mimecast-msp-orders.txt)."""

from __future__ import annotations

import base64

import pytest

from tests.integration.orders.conftest import Mailbox, mailbox
from tests.integration.orders.support import (
    ERRORS,
    RFI_ANSWERS,
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    new_prospect,
    order_input,
    pdf_text,
    rfi_token,
    save_order,
    start_next_month,
    submit_order,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.e2e

__all__ = ["mailbox"]  # fixture


def _plain(message: object) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert body is not None
    return str(body.get_content())


async def test_a_prospect_is_ordered_for_saved_submitted_and_onboarded(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    catalogue = await make_catalogue(client)  # the distributor's price list
    msp = anonymous.as_(tenants.a.member)

    # The MSP creates a prospect, then "Provision": an order, reviewed and saved for later.
    prospect = await new_prospect(msp, tenants, "Woodgrove Dental")
    start = start_next_month(10)
    draft = await create_order(msp, prospect, **order_input(catalogue, start, permittedUsers=25))
    assert draft["errors"] == []
    order_id = draft["order"]["id"]
    saved = await save_order(msp, order_id, orderNumber="PO-WG-0091")
    assert saved["errors"] == []
    assert saved["order"]["customer"]["status"] == "PROSPECT"  # "Save Prospect and Exit"
    review = saved["order"]
    assert (review["msp"]["name"], review["companyName"], review["permittedUsers"]) == (
        "Partner A",
        "Woodgrove Dental",
        25,
    )
    assert review["ongoingMonthlyPayment"] == "81.00"
    assert review["oneTimeFees"] == "150.00"
    assert mailbox.deliver() == []  # a draft mails nobody

    # "Submit Order" without the two tick boxes is refused, item by item.
    refused = await submit_order(msp, order_id)
    assert {e["field"] for e in refused["errors"]} == {
        "input.msaAcknowledged",
        "input.authorisedAcknowledged",
    }

    # With them, the prospect becomes an in-progress customer with its subscriptions.
    submitted = await submit_order(msp, order_id, msaAcknowledged=True, authorisedAcknowledged=True)
    assert submitted["errors"] == []
    order = submitted["order"]
    assert order["status"] == "SUBMITTED"
    assert order["customer"]["status"] == "IN_PROGRESS"
    assert [line["subscription"] is not None for line in order["lines"]] == [True, True, False]
    # A retry (or a double click) changes nothing.
    again = await submit_order(msp, order_id, **SUBMIT_DETAILS)
    assert again["errors"] == [] and again["order"]["submittedAt"] == order["submittedAt"]

    # Two mails: the addendum to the submitting MSP, the RFI link to the implementation lead.
    received = {m["To"]: m for m in mailbox.deliver()}
    assert set(received) == {f"member@{tenants.a.domain}", "lee.chen@contoso.example"}
    (addendum,) = list(received[f"member@{tenants.a.domain}"].iter_attachments())
    document = addendum.get_content()
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert "PO-WG-0091" in text and "Woodgrove Dental" in text and "Partner A" in text

    # The same addendum is in the customer's attachments.
    attachments = await msp.data(
        "query($c: ID!) { customerAttachments(customerId: $c) { filename contentBase64 } }",
        {"c": prospect},
    )
    (stored,) = attachments["customerAttachments"]
    assert base64.b64decode(stored["contentBase64"]) == document
    assert stored["filename"] == addendum.get_filename()

    # The implementation lead completes the RFI through the link, anonymously, once.
    token = rfi_token(_plain(received["lee.chen@contoso.example"]))
    form = await anonymous.data(
        f"query($t: String!) {{ rfiForm(token: $t) {{ form {{ companyName mspName }} {ERRORS} }} }}",
        {"t": token},
    )
    assert form["rfiForm"]["form"] == {"companyName": "Woodgrove Dental", "mspName": "Partner A"}
    done = await anonymous.data(
        "mutation($input: SubmitRfiInput!) { submitRfi(input: $input) {"
        f" form {{ completedAt }} {ERRORS} }} }}",
        {"input": {"token": token, "answers": RFI_ANSWERS}},
    )
    assert done["submitRfi"]["errors"] == [] and done["submitRfi"]["form"]["completedAt"]
    used = await anonymous.data(
        f"query($t: String!) {{ rfiForm(token: $t) {{ {ERRORS} }} }}", {"t": token}
    )
    assert [e["code"] for e in used["rfiForm"]["errors"]] == ["ALREADY_USED"]

    # The MSP sees the answers on the order.
    seen = await msp.data(
        "query($id: ID!) { order(id: $id) { rfi { completedBy answers { domains userCount"
        " technicalContactName } } } }",
        {"id": order_id},
    )
    assert seen["order"]["rfi"] == {
        "completedBy": "Lee Chen (RFI link)",
        "answers": {
            "domains": ["contoso.example", "contoso-mail.example"],
            "userCount": 10,
            "technicalContactName": "Sam Ortiz",
        },
    }
