"""The seeds' steps, end to end through the GraphQL API alone, with the mails a real local
SMTP server receives (SPEC C1–C5, R1–R7, T3; seeds prism-contact-management*.txt and
mithi-contacts-and-roles.txt)."""

from __future__ import annotations

from typing import Any

import pytest

from prism_domain.access import APPLICATIONS_BY_ROLE, ContactRole
from tests.integration.contacts.support import (
    ACCOUNT_CONTACTS,
    ADD_ACCOUNT_CONTACT,
    ADD_CUSTOMER_CONTACT,
    ADD_TO_TYPE,
    CUSTOMER_CONTACTS,
    DELETE,
    REMOVE_FROM_TYPE,
    REQUEST_SIGN_IN,
    SET_ROLE,
    SIGN_IN,
    VERIFY,
    Mailbox,
    create_customer,
    fields,
    fresh_sign_in_throttle,
    link_token,
    mailbox,
    mutate,
    smtp_server,
    text_of,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.e2e

__all__ = ["fresh_sign_in_throttle", "mailbox", "smtp_server"]  # fixtures

STATEMENT_DUE = """
mutation($input: StatementDueInput!) {
  sendStatementDueNotice(input: $input) { recipients errors { field code } }
}"""


async def by_type(client: GraphQLClient, account: str) -> dict[str, list[str]]:
    data = await client.data(ACCOUNT_CONTACTS, {"id": account})
    return {
        g["type"]: [c["email"] for c in g["contacts"]] for g in data["accountContacts"]["byType"]
    }


async def test_contact_management_by_type(
    anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    customer = await create_customer(partner, "Fabrikam", "fabrikam.example", None)

    # Create a contact: first name, last name, e-mail, and a contact type; Save.
    ann = await mutate(
        partner,
        ADD_ACCOUNT_CONTACT,
        input={
            "accountId": customer,
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann.lee@fabrikam.example",
            "type": "BILLING",
        },
    )
    assert ann["errors"] == []
    ann_id = ann["contact"]["id"]
    # The contact is added against each type individually.
    await mutate(partner, ADD_TO_TYPE, input={"contactId": ann_id, "type": "STATEMENT"})
    assert await by_type(partner, customer) == {
        "BILLING": ["ann.lee@fabrikam.example"],
        "STATEMENT": ["ann.lee@fabrikam.example"],
        "USAGE_REPORTING": [],
    }

    # Removing the only contact of a type is refused, with the reason.
    refused = await mutate(
        partner, REMOVE_FROM_TYPE, input={"contactId": ann_id, "type": "BILLING"}
    )
    assert fields(refused) == [("input.type", "LAST_CONTACT_OF_TYPE")]
    assert "Add another contact to BILLING" in refused["errors"][0]["message"]

    # With a second contact under the type, the first can be removed from it (only from it).
    await mutate(
        partner,
        ADD_ACCOUNT_CONTACT,
        input={
            "accountId": customer,
            "firstName": "Bob",
            "lastName": "Ray",
            "email": "bob.ray@fabrikam.example",
            "type": "BILLING",
        },
    )
    removed = await mutate(
        partner, REMOVE_FROM_TYPE, input={"contactId": ann_id, "type": "BILLING"}
    )
    assert removed["errors"] == []
    assert await by_type(partner, customer) == {
        "BILLING": ["bob.ray@fabrikam.example"],
        "STATEMENT": ["ann.lee@fabrikam.example"],
        "USAGE_REPORTING": [],
    }

    # A statement notice really reaches the statement contact, and only it (C5).
    notice = await mutate(
        anonymous.as_(tenants.distributor.admin),
        STATEMENT_DUE,
        input={
            "accountId": customer,
            "statementDate": "2026-11-30",
            "amountDue": "1500",
            "currency": "EUR",
            "dueDate": "2026-12-14",
        },
    )
    assert notice == {"recipients": 1, "errors": []}
    (mail,) = mailbox.deliver()
    assert mail.rcpt_tos == ("ann.lee@fabrikam.example",)
    assert "EUR 1,500.00" in text_of(mail.message)


async def test_customer_account_contacts_and_roles(
    anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    domain = tenants.a.domain  # the partner orders for the customer: R3 on its domain
    customer = await create_customer(partner, "Fabrikam", "fabrikam.example", None)
    people = [f"pat@{domain}", f"bill@{domain}", "tess@fabrikam.example", "sue@fabrikam.example"]
    people.append("una@fabrikam.example")

    # Up to 5 contacts, each sent a verification e-mail; the 6th is refused.
    ids: dict[str, str] = {}
    for email in people:
        added = await mutate(
            partner,
            ADD_CUSTOMER_CONTACT,
            input={"customerId": customer, "displayName": email.split("@")[0], "email": email},
        )
        assert added["errors"] == []
        ids[email] = added["contact"]["id"]
    sixth = await mutate(
        partner,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Six", "email": "six@fabrikam.example"},
    )
    assert fields(sixth) == [("input", "LIMIT_REACHED")]
    mails = {m.rcpt_tos[0]: m.message for m in mailbox.deliver()}
    assert set(mails) == set(people)

    # "Verify your Email": the link marks the contact verified.
    for email in (f"pat@{domain}", f"bill@{domain}"):
        verified = await mutate(anonymous, VERIFY, token=link_token(mails[email]))
        assert verified == {"verified": True, "errors": []}

    # Partner staff make the owner primary; an unverified contact gets no role.
    made = await mutate(partner, SET_ROLE, input={"id": ids[f"pat@{domain}"], "role": "PRIMARY"})
    assert made["errors"] == []
    unverified = await mutate(
        partner, SET_ROLE, input={"id": ids["tess@fabrikam.example"], "role": "TECHNICAL"}
    )
    assert fields(unverified) == [("input.id", "NOT_VERIFIED")]

    # The primary contact signs in by a link sent by e-mail and sees its applications.
    asked = await mutate(anonymous, REQUEST_SIGN_IN, email=f"pat@{domain}")
    assert asked["errors"] == []
    (sign_in_mail,) = mailbox.deliver()
    assert sign_in_mail.message["Subject"] == "Your sign-in link for Fabrikam"
    signed: dict[str, Any] = await mutate(
        anonymous, SIGN_IN, token=link_token(sign_in_mail.message)
    )
    assert signed["contact"] == {"email": f"pat@{domain}", "role": "PRIMARY"}
    primary = anonymous.as_(signed["accessToken"])
    me = (await primary.data("{ me { kind applications } }"))["me"]
    assert me["kind"] == "CONTACT"
    assert set(me["applications"]) == set(APPLICATIONS_BY_ROLE[ContactRole.PRIMARY])

    # Managing roles: the primary assigns the billing contact.
    billing = await mutate(
        primary, SET_ROLE, input={"id": ids[f"bill@{domain}"], "role": "BILLING"}
    )
    assert billing["contact"]["role"] == "BILLING"

    # The primary cannot be deleted; the billing contact only with confirmation.
    own = await mutate(primary, DELETE, input={"id": ids[f"pat@{domain}"], "confirm": True})
    assert fields(own) == [("input.id", "NOT_ALLOWED")]
    unconfirmed = await mutate(primary, DELETE, input={"id": ids[f"bill@{domain}"]})
    assert fields(unconfirmed) == [("input.confirm", "CONFIRMATION_REQUIRED")]
    confirmed = await mutate(primary, DELETE, input={"id": ids[f"bill@{domain}"], "confirm": True})
    assert confirmed == {"deletedId": ids[f"bill@{domain}"], "errors": []}

    listed = (await primary.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"]
    assert sorted(c["email"] for c in listed) == sorted(p for p in people if p != f"bill@{domain}")
    assert {c["email"]: c["role"] for c in listed}[f"pat@{domain}"] == "PRIMARY"
