"""Customer-account contacts and roles through the GraphQL API (SPEC R1–R6, N1, T3), with
the mails a real SMTP server receives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from prism_graph.database import Database
from prism_platform.db import utcnow
from prism_tables.contacts import CustomerContactLink
from tests.integration.contacts.support import (
    ADD_CUSTOMER_CONTACT,
    CUSTOMER_CONTACTS,
    DELETE,
    RESEND,
    SET_ROLE,
    VERIFY,
    Mailbox,
    create_customer,
    fields,
    link_token,
    mutate,
    text_of,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration


async def add(client: GraphQLClient, customer: str, email: str, **more: Any) -> dict[str, Any]:
    input = {"customerId": customer, "displayName": email.split("@")[0].title(), "email": email}
    return await mutate(client, ADD_CUSTOMER_CONTACT, input={**input, **more})


async def verified_contact(
    client: GraphQLClient, anonymous: GraphQLClient, mailbox: Mailbox, customer: str, email: str
) -> str:
    contact = (await add(client, customer, email))["contact"]
    (mail,) = mailbox.deliver()
    assert (await mutate(anonymous, VERIFY, token=link_token(mail.message)))["verified"]
    contact_id: str = contact["id"]
    return contact_id


async def test_adding_a_contact_mails_a_verification_link_that_works_once(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)

    added = await add(client, customer, "Ann@Fabrikam.example", displayName="  Ann   Lee ")

    assert added["errors"] == []
    assert added["contact"] | {"id": None} == {
        "id": None,
        "displayName": "Ann Lee",
        "email": "ann@fabrikam.example",
        "role": "UNASSIGNED",
        "verified": False,
    }
    (mail,) = mailbox.deliver()
    assert mail.rcpt_tos == ("ann@fabrikam.example",)
    assert mail.message["Subject"] == "Please verify your e-mail address for Fabrikam"
    assert "Hello Ann Lee," in text_of(mail.message)
    token = link_token(mail.message)

    first = await mutate(anonymous, VERIFY, token=token)
    second = await mutate(anonymous, VERIFY, token=token)

    assert first == {"verified": True, "errors": []}
    assert second["verified"] is False
    assert fields(second) == [("input.token", "ALREADY_USED")]
    listed = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    assert [c["verified"] for c in listed["customerContacts"]] == [True]


async def test_verify_resends_a_fresh_link_and_the_earlier_one_stops_working(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = (await add(client, customer, "ann@fabrikam.example"))["contact"]
    (old,) = mailbox.deliver()

    resent = await mutate(client, RESEND, id=contact["id"])

    assert resent["errors"] == []
    (new,) = mailbox.deliver()
    assert link_token(new.message) != link_token(old.message)
    replaced = await mutate(anonymous, VERIFY, token=link_token(old.message))
    # The earlier link says it was replaced by a newer one, not that it was used.
    assert fields(replaced) == [("input.token", "REPLACED")]
    assert "replaced by a newer one" in replaced["errors"][0]["message"]
    assert (await mutate(anonymous, VERIFY, token=link_token(new.message)))["verified"]
    used = await mutate(anonymous, VERIFY, token=link_token(new.message))
    assert fields(used) == [("input.token", "ALREADY_USED")]
    assert fields(await mutate(client, RESEND, id=contact["id"])) == [("input.id", "CONFLICT")]


async def test_without_the_checkbox_no_mail_is_sent(
    client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    added = await add(client, customer, "ann@fabrikam.example", sendVerificationEmail=False)
    assert added["errors"] == []
    assert mailbox.deliver() == []


async def test_an_expired_or_unknown_link_does_not_verify(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    database: Database,
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    await add(client, customer, "ann@fabrikam.example")
    (mail,) = mailbox.deliver()
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(CustomerContactLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await uow.commit()

    assert fields(await mutate(anonymous, VERIFY, token=link_token(mail.message))) == [
        ("input.token", "EXPIRED")
    ]
    assert fields(await mutate(anonymous, VERIFY, token="prism_cv_nothing")) == [
        ("input.token", "NOT_FOUND")
    ]
    listed = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    assert [c["verified"] for c in listed["customerContacts"]] == [False]


async def test_the_sixth_contact_is_refused_and_nothing_changes(
    client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    for n in range(5):
        assert (await add(client, customer, f"c{n}@fabrikam.example"))["errors"] == []

    sixth = await add(client, customer, "c5@fabrikam.example")

    assert fields(sixth) == [("input", "LIMIT_REACHED")]
    assert len((await client.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"]) == 5
    assert sorted(m.rcpt_tos[0] for m in mailbox.deliver()) == [
        f"c{n}@fabrikam.example" for n in range(5)
    ]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"email": "ann@@fabrikam.example"}, [("input.email", "INVALID")]),
        ({"email": "x" * 250 + "@f.example"}, [("input.email", "TOO_LONG")]),
        ({"displayName": " \t "}, [("input.displayName", "REQUIRED")]),
        ({"displayName": "N" * 201}, [("input.displayName", "TOO_LONG")]),
        ({"email": "FIRST@fabrikam.example"}, [("input.email", "DUPLICATE")]),
        ({"customerId": "T3JnYW5pc2F0aW9uOjE="}, [("input.customerId", "NOT_FOUND")]),
    ],
)
async def test_bad_input_is_refused_on_its_field(
    client: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    override: dict[str, str],
    expected: Any,
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    await add(client, customer, "first@fabrikam.example")
    mailbox.deliver()

    payload = await mutate(
        client,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Bo", "email": "bo@f.example", **override},
    )

    assert fields(payload) == expected
    assert len((await client.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"]) == 1
    assert mailbox.deliver() == []


async def test_roles_need_a_verified_contact_on_the_right_domain_and_one_primary(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    partner_domain = tenants.a.domain
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    unverified = (await add(client, customer, f"new@{partner_domain}"))["contact"]["id"]
    mailbox.deliver()
    on_customer = await verified_contact(
        client, anonymous, mailbox, customer, "ann@fabrikam.example"
    )
    on_partner = await verified_contact(
        client, anonymous, mailbox, customer, f"pat@{partner_domain}"
    )
    other = await verified_contact(client, anonymous, mailbox, customer, f"sue@{partner_domain}")

    async def set_role(contact: str, role: str) -> dict[str, Any]:
        return await mutate(client, SET_ROLE, input={"id": contact, "role": role})

    assert fields(await set_role(unverified, "SUPPORT")) == [("input.id", "NOT_VERIFIED")]
    assert fields(await set_role(on_customer, "PRIMARY")) == [("input.role", "WRONG_DOMAIN")]
    assert fields(await set_role(on_customer, "BILLING")) == [("input.role", "WRONG_DOMAIN")]
    assert (await set_role(on_customer, "TECHNICAL"))["contact"]["role"] == "TECHNICAL"
    assert (await set_role(on_partner, "PRIMARY"))["errors"] == []
    assert fields(await set_role(on_partner, "SUPPORT")) == [("input.role", "NOT_ALLOWED")]

    moved = await set_role(other, "PRIMARY")  # the primary moves: still exactly one

    assert moved["errors"] == []
    roles = {
        c["email"]: c["role"]
        for c in (await client.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"]
    }
    assert roles == {
        f"new@{partner_domain}": "UNASSIGNED",
        "ann@fabrikam.example": "TECHNICAL",
        f"pat@{partner_domain}": "UNASSIGNED",
        f"sue@{partner_domain}": "PRIMARY",
    }


async def test_a_direct_customers_primary_is_on_its_own_domain(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Blue Yonder", "blueyonder.example", None)
    own = await verified_contact(client, anonymous, mailbox, customer, "amy@blueyonder.example")
    staff = await verified_contact(
        client, anonymous, mailbox, customer, f"dan@{tenants.distributor.domain}"
    )

    wrong = await mutate(client, SET_ROLE, input={"id": staff, "role": "BILLING"})
    right = await mutate(client, SET_ROLE, input={"id": own, "role": "PRIMARY"})

    assert fields(wrong) == [("input.role", "WRONG_DOMAIN")]
    assert right["contact"]["role"] == "PRIMARY"


async def test_deleting_needs_confirmation_for_billing_and_never_takes_the_primary(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    domain = tenants.a.domain
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    primary = await verified_contact(client, anonymous, mailbox, customer, f"pat@{domain}")
    billing = await verified_contact(client, anonymous, mailbox, customer, f"bill@{domain}")
    plain = (await add(client, customer, "joe@fabrikam.example"))["contact"]["id"]
    await mutate(client, SET_ROLE, input={"id": primary, "role": "PRIMARY"})
    await mutate(client, SET_ROLE, input={"id": billing, "role": "BILLING"})

    no_primary = await mutate(client, DELETE, input={"id": primary, "confirm": True})
    unconfirmed = await mutate(client, DELETE, input={"id": billing})
    listed = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    confirmed = await mutate(client, DELETE, input={"id": billing, "confirm": True})
    unassigned = await mutate(client, DELETE, input={"id": plain})

    assert fields(no_primary) == [("input.id", "NOT_ALLOWED")]
    assert fields(unconfirmed) == [("input.confirm", "CONFIRMATION_REQUIRED")]
    assert len(listed["customerContacts"]) == 3
    assert confirmed == {"deletedId": billing, "errors": []}
    assert unassigned == {"deletedId": plain, "errors": []}
    remaining = (await client.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"]
    assert [c["id"] for c in remaining] == [primary]


async def test_another_partners_customer_contacts_are_not_found(
    anonymous: GraphQLClient, client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Litware", "litware.example", tenants.b.gid)
    contact = (await add(client, customer, "lee@litware.example"))["contact"]["id"]
    partner_a = anonymous.as_(tenants.a.admin)

    assert (await partner_a.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"] == []
    assert fields(await add(partner_a, customer, "x@litware.example")) == [
        ("input.customerId", "NOT_FOUND")
    ]
    assert fields(await mutate(partner_a, RESEND, id=contact)) == [("input.id", "NOT_FOUND")]
    assert fields(await mutate(partner_a, SET_ROLE, input={"id": contact, "role": "SUPPORT"})) == [
        ("input.id", "NOT_FOUND")
    ]
    assert fields(await mutate(partner_a, DELETE, input={"id": contact})) == [
        ("input.id", "NOT_FOUND")
    ]
    assert (await partner_a.data("query($id: ID!) { node(id: $id) { id } }", {"id": contact})) == {
        "node": None
    }
