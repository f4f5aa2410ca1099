"""Many concurrent writes racing for one invariant, through the whole API (issue 15).

Each test fires a burst of GraphQL mutations at the same time (each request its own database
connection), then reads the rows back: the invariant holds, and every request that lost the
race was refused with a specific error code in its payload, never "Unexpected error.", a
serialization failure or a deadlock leaking out. On PostgreSQL these are real races between
transactions; on SQLite, whose write transactions take turns, they show the same answers.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from prism_domain.access import ContactRole
from prism_domain.contacts import ContactType
from prism_platform.db import utcnow
from prism_tables.contacts import AccountContactType, AccountContactTypeMember, CustomerContact
from prism_tables.orders import CustomerAttachment, Order, RfiRequest
from prism_tables.outbox import OutboxEvent
from prism_tables.subscriptions import Subscription, SubscriptionQuantity
from tests.integration.contacts.support import (
    ADD_ACCOUNT_CONTACT,
    ADD_CUSTOMER_CONTACT,
    ADD_TO_TYPE,
    DELETE,
    DELETE_ACCOUNT_CONTACT,
    REMOVE_FROM_TYPE,
    SET_ROLE,
    UPDATE_ACCOUNT_CONTACT,
)
from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    order_input,
    start_next_month,
    submit_order,
)
from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BURST = 12  # concurrent requests per race: more than the connection pool's 5 at rest


def pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


async def burst(client: GraphQLClient, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send every call at once; the one payload of each (a failed request fails the test:
    a GraphQL error, e.g. "Unexpected error.", is exactly what must not leak out)."""

    async def one(query: str, variables: dict[str, Any]) -> Any:
        response = await client.raw(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body["errors"]
        (payload,) = body["data"].values()
        return payload

    return list(await asyncio.gather(*(one(q, v) for q, v in calls)))


def codes(payloads: list[Any]) -> Counter[str]:
    """How often each error code was answered; "" for a request that succeeded."""
    found: Counter[str] = Counter()
    for payload in payloads:
        errors = payload["errors"]
        assert len(errors) <= 1, errors
        found[errors[0]["code"] if errors else ""] += 1
    return found


def scalar(engine: Engine, stmt: Any) -> Any:
    with engine.connect() as conn:
        return conn.scalar(stmt)


async def test_removing_every_contact_of_a_type_at_once_leaves_exactly_one(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    partner = client.as_(tenants.a.admin)
    added = await burst(
        partner,
        [
            (
                ADD_ACCOUNT_CONTACT,
                {
                    "input": {
                        "accountId": tenants.a.gid,
                        "firstName": f"Billing {n}",
                        "lastName": "Lee",
                        "email": f"billing-{n}-{uuid.uuid4().hex[:6]}@{tenants.a.domain}",
                        "type": "BILLING",
                    }
                },
            )
            for n in range(BURST)
        ],
    )
    assert codes(added) == {"": BURST}

    removed = await burst(
        partner,
        [
            (REMOVE_FROM_TYPE, {"input": {"contactId": c["contact"]["id"], "type": "BILLING"}})
            for c in added
        ],
    )

    assert codes(removed) == {"": BURST - 1, "LAST_CONTACT_OF_TYPE": 1}
    (refusal,) = [p["errors"][0] for p in removed if p["errors"]]
    assert refusal["field"] == "input.type" and "Add another contact" in refusal["message"]
    members = scalar(
        sync_engine,
        select(func.count())
        .select_from(AccountContactTypeMember)
        .join(AccountContactType)
        .where(
            AccountContactType.organisation_id == tenants.a.id,
            AccountContactType.type == ContactType.BILLING,
        ),
    )
    assert members == 1


async def test_adding_contacts_at_once_stops_at_the_limit_of_five(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    partner = client.as_(tenants.a.admin)
    customer = await create_customer(partner, tenants.a.gid)

    added = await burst(
        partner,
        [
            (
                ADD_CUSTOMER_CONTACT,
                {
                    "input": {
                        "customerId": customer,
                        "displayName": f"Contact {n}",
                        "email": f"contact-{n}@{tenants.a.domain}",
                        "sendVerificationEmail": False,
                    }
                },
            )
            for n in range(BURST)
        ],
    )

    assert codes(added) == {"": 5, "LIMIT_REACHED": BURST - 5}
    assert all("at most 5 contacts" in p["errors"][0]["message"] for p in added if p["errors"])
    contacts = scalar(
        sync_engine,
        select(func.count())
        .select_from(CustomerContact)
        .where(CustomerContact.customer_id == pk(customer)),
    )
    assert contacts == 5


def verified_contacts(engine: Engine, customer_id: int, domain: str, count: int) -> list[str]:
    """`count` verified, UNASSIGNED contacts of the customer, on the ordering partner's
    domain (so that each may become its primary), made straight in the database."""
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        rows = [
            CustomerContact(
                customer_id=customer_id,
                display_name=f"Contact {n}",
                email=f"contact-{n}-{uuid.uuid4().hex[:6]}@{domain}",
                role=ContactRole.UNASSIGNED,
                verified_at=utcnow(),
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [gid("CustomerContact", row.id) for row in rows]


async def test_making_many_contacts_primary_while_deleting_them_keeps_one_primary(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    partner = client.as_(tenants.a.admin)
    customer = await create_customer(partner, tenants.a.gid)
    contacts = verified_contacts(sync_engine, pk(customer), tenants.a.domain, BURST // 2)

    # Every contact is made primary, and every one is deleted, all at the same time.
    calls = [(SET_ROLE, {"input": {"id": c, "role": "PRIMARY"}}) for c in contacts]
    calls += [(DELETE, {"input": {"id": c, "confirm": True}}) for c in contacts]
    answers = await burst(partner, calls)

    promoted, deleted = answers[: len(contacts)], answers[len(contacts) :]
    # A promotion after its contact's deletion finds no contact; a deletion after its
    # contact's promotion is refused (the primary stays) unless another took over since.
    assert set(codes(promoted)) <= {"", "NOT_FOUND"}
    assert set(codes(deleted)) <= {"", "NOT_ALLOWED"}
    with sync_engine.connect() as conn:
        roles = conn.execute(
            select(CustomerContact.id, CustomerContact.role).where(
                CustomerContact.customer_id == pk(customer)
            )
        ).all()
    remaining = {row.id for row in roles}
    primaries = [row.id for row in roles if row.role is ContactRole.PRIMARY]
    assert len(primaries) <= 1
    if any(not p["errors"] for p in promoted):
        # Some promotion won: its contact, or a later one, is the one primary, and no
        # deletion took the primary away.
        assert len(primaries) == 1
    for contact, answer in zip(contacts, deleted, strict=True):
        assert (pk(contact) in remaining) == bool(answer["errors"])


async def test_changing_one_subscriptions_quantity_at_once_keeps_every_change_in_order(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    program = await create_program(client)
    product = await create_product(client, program)
    customer = await create_customer(client, tenants.a.gid)
    created = await client.data(
        """mutation($input: CreateSubscriptionInput!) {
          createSubscription(input: $input) { subscription { id } errors { code } } }""",
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": 10,
                "startDate": "2026-11-01",
            }
        },
    )
    subscription = created["createSubscription"]["subscription"]["id"]
    quantities = [20 + n for n in range(BURST)]

    changed = await burst(
        client,
        [
            (
                """mutation($input: ChangeSubscriptionQuantityInput!) {
                  changeSubscriptionQuantity(input: $input) {
                    subscription { quantity } errors { field code message } } }""",
                {"input": {"id": subscription, "quantity": q, "effectiveFrom": "2026-11-16"}},
            )
            for q in quantities
        ],
    )

    assert codes(changed) == {"": BURST}
    with sync_engine.connect() as conn:
        history = conn.execute(
            select(SubscriptionQuantity.sequence, SubscriptionQuantity.quantity)
            .where(SubscriptionQuantity.subscription_id == pk(subscription))
            .order_by(SubscriptionQuantity.effective_from, SubscriptionQuantity.sequence)
        ).all()
        current = conn.scalar(
            select(Subscription.quantity).where(Subscription.id == pk(subscription))
        )
    assert [h.sequence for h in history] == list(range(BURST + 1))
    assert sorted(h.quantity for h in history[1:]) == quantities
    assert current == history[-1].quantity  # the change recorded last wins


async def test_submitting_one_draft_order_at_once_submits_it_once(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    catalogue = await make_catalogue(client)
    partner = client.as_(tenants.a.admin)
    prospect = await create_customer(partner, tenants.a.gid)
    order = (await create_order(partner, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]

    submitted = await asyncio.gather(
        *(submit_order(partner, order["id"], **SUBMIT_DETAILS) for _ in range(BURST))
    )

    # Every submit answers with the one submitted order (a repeat is not an error).
    assert [s["errors"] for s in submitted] == [[]] * BURST
    assert len({s["order"]["submittedAt"] for s in submitted}) == 1

    def count(model: Any, *where: Any) -> int:
        return int(scalar(sync_engine, select(func.count()).select_from(model).where(*where)))

    order_pk = pk(order["id"])
    assert count(Order, Order.id == order_pk, Order.status == "SUBMITTED") == 1
    assert count(Subscription, Subscription.customer_id == pk(prospect)) == 2
    assert count(CustomerAttachment, CustomerAttachment.customer_id == pk(prospect)) == 1
    assert count(RfiRequest, RfiRequest.order_id == order_pk) == 1
    assert count(OutboxEvent, OutboxEvent.type == "order.submitted") == 1


async def test_adding_contacts_to_a_type_while_deleting_them_refuses_one_or_the_other(
    client: GraphQLClient, tenants: Tenants, sync_engine: Engine
) -> None:
    partner = client.as_(tenants.a.admin)
    keeper = await burst(
        partner,
        [
            (
                ADD_ACCOUNT_CONTACT,
                {
                    "input": {
                        "accountId": tenants.a.gid,
                        "firstName": "Kept",
                        "lastName": "Lee",
                        "email": f"kept-{uuid.uuid4().hex[:6]}@{tenants.a.domain}",
                        "type": "BILLING",
                    }
                },
            )
        ],
    )
    assert codes(keeper) == {"": 1}
    # Contacts on no type any more (each added to BILLING, then taken off it again).
    added = await burst(
        partner,
        [
            (
                ADD_ACCOUNT_CONTACT,
                {
                    "input": {
                        "accountId": tenants.a.gid,
                        "firstName": f"Leaving {n}",
                        "lastName": "Lee",
                        "email": f"leaving-{n}-{uuid.uuid4().hex[:6]}@{tenants.a.domain}",
                        "type": "BILLING",
                    }
                },
            )
            for n in range(BURST // 2)
        ],
    )
    contacts = [c["contact"]["id"] for c in added]
    off = await burst(
        partner,
        [(REMOVE_FROM_TYPE, {"input": {"contactId": c, "type": "BILLING"}}) for c in contacts],
    )
    assert codes(off) == {"": len(contacts)}

    # Each is put on STATEMENT, renamed and deleted, all at the same time.
    calls = [(ADD_TO_TYPE, {"input": {"contactId": c, "type": "STATEMENT"}}) for c in contacts]
    calls += [(DELETE_ACCOUNT_CONTACT, {"input": {"id": c}}) for c in contacts]
    calls += [(UPDATE_ACCOUNT_CONTACT, {"input": {"id": c, "firstName": "New"}}) for c in contacts]
    answers = await burst(partner, calls)

    n = len(contacts)
    attached, deleted, renamed = answers[:n], answers[n : 2 * n], answers[2 * n :]
    assert set(codes(renamed)) <= {"", "NOT_FOUND"}  # a rename after the deletion finds none
    for on_type, gone in zip(attached, deleted, strict=True):
        # The one that came second saw the first: never both, never neither.
        assert bool(on_type["errors"]) != bool(gone["errors"]), (on_type, gone)
    assert set(codes(attached)) <= {"", "NOT_FOUND"}
    assert set(codes(deleted)) <= {"", "NOT_ALLOWED"}
