"""Editing contacts through the API (issue 14): a customer-account contact's name and address
(a new address is verified again, SPEC R4, and keeps the domain rule of its role, R3), a
contact by type's name and address, and deleting a contact by type that is on no type any
more (C3). Bad input, duplicates and other tenants' ids change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.contacts.support import (
    ACCOUNT_CONTACTS,
    ADD_ACCOUNT_CONTACT,
    ADD_CUSTOMER_CONTACT,
    ADD_TO_TYPE,
    CUSTOMER_CONTACTS,
    DELETE_ACCOUNT_CONTACT,
    REMOVE_FROM_TYPE,
    REQUEST_SIGN_IN,
    SET_ROLE,
    SIGN_IN,
    UPDATE_ACCOUNT_CONTACT,
    UPDATE_CUSTOMER_CONTACT,
    VERIFY,
    Mailbox,
    create_customer,
    fields,
    link_token,
    mutate,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = pytest.mark.integration


async def contact_of(
    client: GraphQLClient, anonymous: GraphQLClient, mailbox: Mailbox, customer: str, email: str
) -> str:
    """A verified contact of the customer."""
    added = await mutate(
        client,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Pat Doe", "email": email},
    )
    (mail,) = mailbox.deliver()
    assert (await mutate(anonymous, VERIFY, token=link_token(mail.message)))["verified"]
    contact_id: str = added["contact"]["id"]
    return contact_id


async def update(client: GraphQLClient, contact: str, **input: Any) -> dict[str, Any]:
    return await mutate(client, UPDATE_CUSTOMER_CONTACT, input={"id": contact, **input})


async def sign_in_token(anonymous: GraphQLClient, mailbox: Mailbox, email: str) -> str:
    await mutate(anonymous, REQUEST_SIGN_IN, email=email)
    (mail,) = mailbox.deliver()
    signed = await mutate(anonymous, SIGN_IN, token=link_token(mail.message))
    assert signed["errors"] == []
    token: str = signed["accessToken"]
    return token


async def test_a_new_name_keeps_the_verification(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await contact_of(client, anonymous, mailbox, customer, "pat@fabrikam.example")

    renamed = await update(
        client, contact, displayName="  Pat   Smith ", email="PAT@fabrikam.example"
    )

    assert renamed["errors"] == []
    assert renamed["contact"] | {"id": None} == {
        "id": None,
        "displayName": "Pat Smith",
        "email": "pat@fabrikam.example",
        "role": "UNASSIGNED",
        "verified": True,
    }
    assert mailbox.deliver() == []


async def test_a_new_address_is_verified_again_and_the_old_links_say_they_were_replaced(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    old_address, new_address = f"pat@{tenants.a.domain}", f"pat.doe@{tenants.a.domain}"
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await contact_of(client, anonymous, mailbox, customer, old_address)
    assert (await mutate(client, SET_ROLE, input={"id": contact, "role": "PRIMARY"}))[
        "errors"
    ] == []
    session = await sign_in_token(anonymous, mailbox, old_address)
    await mutate(anonymous, REQUEST_SIGN_IN, email=old_address)
    (pending_sign_in,) = mailbox.deliver()

    changed = await update(client, contact, email=new_address)

    assert changed["errors"] == []
    assert changed["contact"]["email"] == new_address
    assert changed["contact"]["verified"] is False
    assert changed["contact"]["role"] == "PRIMARY"  # an account keeps its one primary
    (verification,) = mailbox.deliver()
    assert verification.rcpt_tos == (new_address,)
    assert "verify" in verification.message["Subject"].lower()
    # The sign-in link mailed to the old address says a newer link replaced it.
    replaced = await mutate(anonymous, SIGN_IN, token=link_token(pending_sign_in.message))
    assert fields(replaced) == [("input.token", "REPLACED")]
    # Its sessions ended; no sign-in link goes out until the new address is verified.
    assert (await anonymous.as_(session).raw("{ me { kind } }")).status_code == 401
    await mutate(anonymous, REQUEST_SIGN_IN, email=new_address)
    await mutate(anonymous, REQUEST_SIGN_IN, email=old_address)
    assert mailbox.deliver() == []
    other = await mutate(
        client,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Kim", "email": "kim@fabrikam.example"},
    )
    mailbox.deliver()

    assert (await mutate(anonymous, VERIFY, token=link_token(verification.message)))["verified"]
    listed = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    assert [(c["email"], c["verified"]) for c in listed["customerContacts"]] == [
        (new_address, True),
        ("kim@fabrikam.example", False),
    ]
    assert await sign_in_token(anonymous, mailbox, new_address)
    assert other["errors"] == []


async def test_a_primary_or_billing_address_stays_on_the_required_domain(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await contact_of(client, anonymous, mailbox, customer, f"bill@{tenants.a.domain}")
    await mutate(client, SET_ROLE, input={"id": contact, "role": "BILLING"})

    refused = await update(client, contact, email="bill@fabrikam.example", displayName="Bill")

    assert fields(refused) == [("input.email", "WRONG_DOMAIN")]
    assert tenants.a.domain in refused["errors"][0]["message"]
    listed = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    assert [(c["email"], c["verified"]) for c in listed["customerContacts"]] == [
        (f"bill@{tenants.a.domain}", True)
    ]
    assert mailbox.deliver() == []


async def test_bad_addresses_duplicates_and_foreign_contacts_change_nothing(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await contact_of(client, anonymous, mailbox, customer, "pat@fabrikam.example")
    await contact_of(client, anonymous, mailbox, customer, "kim@fabrikam.example")
    b_customer = await create_customer(client, "Litware", "litware.example", tenants.b.gid)
    b_contact = await contact_of(client, anonymous, mailbox, b_customer, "lee@litware.example")
    partner_a = anonymous.as_(tenants.a.admin)

    invalid = await update(client, contact, email="not an address", displayName=" ")
    duplicate = await update(client, contact, email="KIM@fabrikam.example")
    foreign = await update(partner_a, b_contact, displayName="Stolen")
    unknown = await update(partner_a, gid("CustomerContact", 987654), displayName="Nobody")
    wrong_type = await update(partner_a, customer, displayName="Nobody")

    assert set(fields(invalid)) == {("input.email", "INVALID"), ("input.displayName", "REQUIRED")}
    assert fields(duplicate) == [("input.email", "DUPLICATE")]
    assert foreign == unknown == wrong_type
    assert fields(foreign) == [("input.id", "NOT_FOUND")]
    listed = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    assert [(c["email"], c["verified"]) for c in listed["customerContacts"]] == [
        ("pat@fabrikam.example", True),
        ("kim@fabrikam.example", True),
    ]
    b_listed = await client.data(CUSTOMER_CONTACTS, {"id": b_customer})
    assert [c["email"] for c in b_listed["customerContacts"]] == ["lee@litware.example"]
    assert mailbox.deliver() == []


async def test_only_the_primary_contact_among_contacts_edits_contacts(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    primary = await contact_of(client, anonymous, mailbox, customer, f"pat@{tenants.a.domain}")
    billing = await contact_of(client, anonymous, mailbox, customer, f"bo@{tenants.a.domain}")
    await mutate(client, SET_ROLE, input={"id": primary, "role": "PRIMARY"})
    await mutate(client, SET_ROLE, input={"id": billing, "role": "BILLING"})
    as_primary = anonymous.as_(await sign_in_token(anonymous, mailbox, f"pat@{tenants.a.domain}"))
    as_billing = anonymous.as_(await sign_in_token(anonymous, mailbox, f"bo@{tenants.a.domain}"))

    by_primary = await update(as_primary, billing, displayName="Bo Billing")
    by_billing = await as_billing.post(
        UPDATE_CUSTOMER_CONTACT, {"input": {"id": primary, "displayName": "Hijacked"}}
    )

    assert by_primary["errors"] == [] and by_primary["contact"]["displayName"] == "Bo Billing"
    assert by_billing["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# Contacts by type ----------------------------------------------------------------------------


async def add_typed(client: GraphQLClient, account: str, email: str, type_: str) -> str:
    input = {"accountId": account, "firstName": "Ann", "lastName": "Lee", "email": email}
    added = await mutate(client, ADD_ACCOUNT_CONTACT, input={**input, "type": type_})
    assert added["errors"] == []
    contact_id: str = added["contact"]["id"]
    return contact_id


async def test_a_contact_by_type_gets_a_new_name_and_address_and_keeps_its_types(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    ann = await add_typed(partner, tenants.a.gid, f"ann@{tenants.a.domain}", "BILLING")
    await add_typed(partner, tenants.a.gid, f"bob@{tenants.a.domain}", "STATEMENT")
    b_contact = await add_typed(
        anonymous.as_(tenants.b.admin), tenants.b.gid, f"lee@{tenants.b.domain}", "BILLING"
    )

    changed = await mutate(
        partner,
        UPDATE_ACCOUNT_CONTACT,
        input={"id": ann, "lastName": " Smith ", "email": f"ANN.SMITH@{tenants.a.domain}"},
    )
    duplicate = await mutate(
        partner, UPDATE_ACCOUNT_CONTACT, input={"id": ann, "email": f"bob@{tenants.a.domain}"}
    )
    invalid = await mutate(
        partner, UPDATE_ACCOUNT_CONTACT, input={"id": ann, "firstName": "", "email": "nope"}
    )
    foreign = await mutate(
        partner, UPDATE_ACCOUNT_CONTACT, input={"id": b_contact, "firstName": "Stolen"}
    )

    assert changed["errors"] == []
    assert changed["contact"] | {"id": None} == {
        "id": None,
        "firstName": "Ann",
        "lastName": "Smith",
        "email": f"ann.smith@{tenants.a.domain}",
        "types": ["BILLING"],
    }
    assert fields(duplicate) == [("input.email", "DUPLICATE")]
    assert set(fields(invalid)) == {("input.firstName", "REQUIRED"), ("input.email", "INVALID")}
    assert fields(foreign) == [("input.id", "NOT_FOUND")]
    b_listed = await anonymous.as_(tenants.b.admin).data(ACCOUNT_CONTACTS, {"id": tenants.b.gid})
    assert [c["email"] for c in b_listed["accountContacts"]["contacts"]] == [
        f"lee@{tenants.b.domain}"
    ]


async def test_a_contact_by_type_is_deleted_only_once_it_is_on_no_type(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    ann = await add_typed(client, customer, "ann@fabrikam.example", "BILLING")
    await mutate(client, ADD_TO_TYPE, input={"contactId": ann, "type": "STATEMENT"})
    bob = await add_typed(client, customer, "bob@fabrikam.example", "BILLING")

    on_two = await mutate(client, DELETE_ACCOUNT_CONTACT, input={"id": ann})
    assert fields(on_two) == [("input.id", "NOT_ALLOWED")]
    assert "Billing, Statement" in on_two["errors"][0]["message"]
    assert (await mutate(client, REMOVE_FROM_TYPE, input={"contactId": ann, "type": "BILLING"}))[
        "errors"
    ] == []
    # Ann is the last STATEMENT contact: she stays on it, so she cannot be deleted.
    last = await mutate(client, REMOVE_FROM_TYPE, input={"contactId": ann, "type": "STATEMENT"})
    assert fields(last) == [("input.type", "LAST_CONTACT_OF_TYPE")]
    still = await mutate(client, DELETE_ACCOUNT_CONTACT, input={"id": ann})
    assert fields(still) == [("input.id", "NOT_ALLOWED")]
    assert "Statement" in still["errors"][0]["message"]

    # Bob takes over STATEMENT; then Ann is on no type and can go.
    await mutate(client, ADD_TO_TYPE, input={"contactId": bob, "type": "STATEMENT"})
    await mutate(client, REMOVE_FROM_TYPE, input={"contactId": ann, "type": "STATEMENT"})
    foreign = await mutate(
        anonymous.as_(tenants.b.admin), DELETE_ACCOUNT_CONTACT, input={"id": ann}
    )
    unknown = await mutate(
        client, DELETE_ACCOUNT_CONTACT, input={"id": gid("AccountContact", 987654)}
    )
    deleted = await mutate(client, DELETE_ACCOUNT_CONTACT, input={"id": ann})
    again = await mutate(client, DELETE_ACCOUNT_CONTACT, input={"id": ann})

    assert fields(foreign) == fields(unknown) == [("input.id", "NOT_FOUND")]
    assert deleted == {"deletedId": ann, "errors": []}
    assert fields(again) == [("input.id", "NOT_FOUND")]
    listed = await client.data(ACCOUNT_CONTACTS, {"id": customer})
    assert [c["email"] for c in listed["accountContacts"]["contacts"]] == ["bob@fabrikam.example"]
