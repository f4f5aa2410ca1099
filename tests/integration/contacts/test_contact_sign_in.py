"""Customer-account contacts sign in by a magic link and reach only their own customer, with
the applications of their role (SPEC T3, R5, R7)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from prism_domain.access import APPLICATIONS_BY_ROLE, ContactRole
from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from prism_platform.db import utcnow
from prism_tables.contacts import CustomerContactLink
from tests.integration.contacts.support import (
    ADD_CUSTOMER_CONTACT,
    CUSTOMER_CONTACTS,
    REQUEST_SIGN_IN,
    SET_ROLE,
    SIGN_IN,
    VERIFY,
    Mailbox,
    create_customer,
    fields,
    link_token,
    mutate,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.identity import sign_in as staff_sign_in

pytestmark = pytest.mark.integration

ME = "{ me { kind label applications permissions } }"


async def verified(
    client: GraphQLClient, anonymous: GraphQLClient, mailbox: Mailbox, customer: str, email: str
) -> str:
    added = await mutate(
        client,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Pat", "email": email},
    )
    (mail,) = mailbox.deliver()
    await mutate(anonymous, VERIFY, token=link_token(mail.message))
    contact_id: str = added["contact"]["id"]
    return contact_id


async def sign_in(anonymous: GraphQLClient, mailbox: Mailbox, email: str) -> str:
    asked = await mutate(anonymous, REQUEST_SIGN_IN, email=email)
    assert asked["errors"] == []
    (mail,) = mailbox.deliver()
    assert mail.rcpt_tos == (email,)
    signed = await mutate(anonymous, SIGN_IN, token=link_token(mail.message))
    assert signed["errors"] == [], signed
    token: str = signed["accessToken"]
    return token


async def test_a_verified_contact_signs_in_and_sees_its_applications(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    email = f"pat@{tenants.a.domain}"
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await verified(client, anonymous, mailbox, customer, email)
    await mutate(client, SET_ROLE, input={"id": contact, "role": "PRIMARY"})

    token = await sign_in(anonymous, mailbox, email)
    me = (await anonymous.as_(token).data(ME))["me"]

    assert me["kind"] == "CONTACT"
    assert set(me["applications"]) == set(APPLICATIONS_BY_ROLE[ContactRole.PRIMARY])
    assert "MANAGE_CUSTOMER_CONTACTS" in me["permissions"]
    own = await anonymous.as_(token).data(CUSTOMER_CONTACTS, {"id": customer})
    assert [c["email"] for c in own["customerContacts"]] == [email]


@pytest.mark.parametrize("role", ["BILLING", "SUPPORT", "TECHNICAL", "UNASSIGNED"])
async def test_other_roles_get_their_applications_and_no_contact_manager(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox, role: str
) -> None:
    email = f"pat@{tenants.a.domain}"
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await verified(client, anonymous, mailbox, customer, email)
    await mutate(client, SET_ROLE, input={"id": contact, "role": role})
    token = await sign_in(anonymous, mailbox, email)
    me_as = anonymous.as_(token)

    me = (await me_as.data(ME))["me"]
    listing = await me_as.post(CUSTOMER_CONTACTS, {"id": customer})
    customers = await me_as.data("{ customers(first: 10) { edges { node { id } } } }")

    assert set(me["applications"]) == set(APPLICATIONS_BY_ROLE[ContactRole(role)])
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [e["node"]["id"] for e in customers["customers"]["edges"]] == [customer]


async def test_a_role_change_applies_to_the_next_request(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    email = f"pat@{tenants.a.domain}"
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await verified(client, anonymous, mailbox, customer, email)
    token = await sign_in(anonymous, mailbox, email)
    assert "HELP_DESK" not in (await anonymous.as_(token).data(ME))["me"]["applications"]

    await mutate(client, SET_ROLE, input={"id": contact, "role": "SUPPORT"})

    assert "HELP_DESK" in (await anonymous.as_(token).data(ME))["me"]["applications"]


async def test_the_answer_is_the_same_for_unknown_and_unverified_addresses(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    await mutate(
        client,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "New", "email": "new@fabrikam.example"},
    )
    mailbox.deliver()
    known = await verified(client, anonymous, mailbox, customer, "ann@fabrikam.example")
    assert known

    answers = [
        await mutate(anonymous, REQUEST_SIGN_IN, email=email)
        for email in ("nobody@fabrikam.example", "new@fabrikam.example", "ann@fabrikam.example")
    ]

    assert answers[0] == answers[1] == answers[2]
    assert [m.rcpt_tos for m in mailbox.deliver()] == [("ann@fabrikam.example",)]
    malformed = await mutate(anonymous, REQUEST_SIGN_IN, email="not an address")
    assert malformed["errors"] == [{"code": "INVALID"}]


async def test_a_sign_in_link_works_once_and_not_after_it_expires(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    database: Database,
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    await verified(client, anonymous, mailbox, customer, "ann@fabrikam.example")
    await mutate(anonymous, REQUEST_SIGN_IN, email="ann@fabrikam.example")
    (first,) = mailbox.deliver()
    token = link_token(first.message)
    assert (await mutate(anonymous, SIGN_IN, token=token))["accessToken"]
    assert fields(await mutate(anonymous, SIGN_IN, token=token)) == [
        ("input.token", "ALREADY_USED")
    ]

    await mutate(anonymous, REQUEST_SIGN_IN, email="ann@fabrikam.example")
    (second,) = mailbox.deliver()
    await mutate(anonymous, REQUEST_SIGN_IN, email="ann@fabrikam.example")
    (third,) = mailbox.deliver()
    # A newer request replaced the second link: it says so.
    replaced = await mutate(anonymous, SIGN_IN, token=link_token(second.message))
    assert fields(replaced) == [("input.token", "REPLACED")]
    assert "replaced by a newer one" in replaced["errors"][0]["message"]
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(CustomerContactLink).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await uow.commit()

    expired = await mutate(anonymous, SIGN_IN, token=link_token(third.message))
    assert fields(expired) == [("input.token", "EXPIRED")]
    assert expired["accessToken"] is None
    # A verification link is no sign-in link.
    assert fields(await mutate(anonymous, SIGN_IN, token="prism_cv_x")) == [
        ("input.token", "NOT_FOUND")
    ]


async def test_a_contact_reaches_only_its_own_customer(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    email = f"pat@{tenants.a.domain}"
    mine = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    other = await create_customer(client, "Tailspin", "tailspin.example", tenants.a.gid)
    contact = await verified(client, anonymous, mailbox, mine, email)
    await mutate(client, SET_ROLE, input={"id": contact, "role": "PRIMARY"})
    stranger = await verified(client, anonymous, mailbox, other, "sam@tailspin.example")
    as_contact = anonymous.as_(await sign_in(anonymous, mailbox, email))

    listed = await as_contact.data(CUSTOMER_CONTACTS, {"id": other})
    added = await mutate(
        as_contact,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": other, "displayName": "X", "email": "x@tailspin.example"},
    )
    role = await mutate(as_contact, SET_ROLE, input={"id": stranger, "role": "SUPPORT"})
    viewed = await as_contact.data(
        "query($id: ID!) { customer(id: $id) { id } node(id: $id) { id } }", {"id": other}
    )
    partner_account = await as_contact.data(
        "query($id: ID!) { accountContacts(accountId: $id) { contacts { email } } }",
        {"id": tenants.a.gid},
    )

    assert listed == {"customerContacts": []}
    assert fields(added) == [("input.customerId", "NOT_FOUND")]
    assert fields(role) == [("input.id", "NOT_FOUND")]
    assert viewed == {"customer": None, "node": None}
    assert partner_account == {"accountContacts": None}


async def test_a_deleted_contacts_token_stops_working(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    contact = await verified(client, anonymous, mailbox, customer, "ann@fabrikam.example")
    token = await sign_in(anonymous, mailbox, "ann@fabrikam.example")

    deleted = await mutate(
        client,
        "mutation($id: ID!) { deleteCustomerContact(input: {id: $id}) { deletedId } }",
        id=contact,
    )

    assert deleted == {"deletedId": contact}
    response = await anonymous.as_(token).raw(ME)
    assert response.status_code == 401


async def test_link_requests_are_throttled_apart_from_staff_sign_in(
    settings: GraphSettings, database: Database, tenants: Tenants
) -> None:
    tight = settings.model_copy(update={"login_attempts_per_account": 2})
    app = create_app(tight, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        anonymous = GraphQLClient(http)
        email = f"x-{uuid.uuid4().hex[:8]}@fabrikam.example"
        answers = [await mutate(anonymous, REQUEST_SIGN_IN, email=email) for _ in range(3)]
        staff = await staff_sign_in(anonymous, email, "wrong-password-1")

    assert [a["errors"] for a in answers] == [[], [], [{"code": "THROTTLED"}]]
    assert len({a["message"] for a in answers}) == 1
    assert [e["code"] for e in staff["errors"]] == ["INVALID_CREDENTIALS"]
