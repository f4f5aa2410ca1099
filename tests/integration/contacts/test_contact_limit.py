"""R1: the contact limit is a deployment setting, and holds under concurrent additions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine, func, select

from prism_domain.access import Scope
from prism_domain.errors import ErrorCode
from prism_graph.app import create_app
from prism_graph.contacts import customer_contacts
from prism_graph.contacts.config import ContactsConfig
from prism_graph.customers.service import create_customer
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from prism_tables.contacts import CustomerContact
from tests.integration.contacts.support import (
    ADD_CUSTOMER_CONTACT,
    fields,
    mutate,
    waiting_on_a_lock,
)
from tests.support.backends import postgres_requested
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = pytest.mark.integration


@pytest.fixture
async def limited(settings: GraphSettings, database: Database) -> AsyncIterator[GraphQLClient]:
    """The API of a deployment with CUSTOMER_CONTACT_LIMIT=2."""
    app = create_app(settings.model_copy(update={"customer_contact_limit": 2}), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        yield GraphQLClient(http)


async def test_the_limit_comes_from_the_settings(
    limited: GraphQLClient, tenants: Tenants, database: Database
) -> None:
    customer = await create_customer(
        database, partner_id=tenants.a.id, name="Fabrikam", domain="fabrikam.example"
    )
    assert not isinstance(customer, list)
    staff = limited.as_(tenants.a.admin)

    results = [
        await mutate(
            staff,
            ADD_CUSTOMER_CONTACT,
            input={
                "customerId": gid("Customer", customer.id),
                "displayName": name,
                "email": f"{name}@fabrikam.example",
                "sendVerificationEmail": False,
            },
        )
        for name in ("ann", "bob", "cy")
    ]

    assert [fields(r) for r in results] == [[], [], [("input", "LIMIT_REACHED")]]
    assert "at most 2 contacts" in results[2]["errors"][0]["message"]


async def test_many_simultaneous_additions_stop_at_the_limit(
    database: Database, tenants: Tenants
) -> None:
    customer = await create_customer(
        database, partner_id=tenants.a.id, name="Fabrikam", domain="fabrikam.example"
    )
    assert not isinstance(customer, list)
    config = ContactsConfig(customer_contact_limit=3)
    staff = Scope(all_partners=True)

    async def add(name: str) -> object:
        return await customer_contacts.add_contact(
            database,
            config,
            staff,
            customer.id,
            display_name=name,
            email=f"{name}@fabrikam.example",
            send_verification=False,
        )

    results = await asyncio.gather(*(add(f"c{n}") for n in range(6)))

    refused = [r for r in results if isinstance(r, list)]
    assert len(refused) == 3
    assert {e.code for r in refused for e in r} == {ErrorCode.LIMIT_REACHED}
    async with database.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(CustomerContact))
    assert count == 3


@pytest.mark.skipif(not postgres_requested(), reason="real row locks: PostgreSQL only")
async def test_an_addition_waits_for_a_concurrent_one_and_then_counts_it(
    database: Database, tenants: Tenants, sync_engine: Engine
) -> None:
    customer = await create_customer(
        database, partner_id=tenants.a.id, name="Fabrikam", domain="fabrikam.example"
    )
    assert not isinstance(customer, list)
    config = ContactsConfig(customer_contact_limit=1)
    staff = Scope(all_partners=True)

    async with database.unit_of_work() as first:
        # What an addition does first: lock the customer's row; then it inserts.
        assert await customer_contacts.locked_customer(first.session, staff, customer.id)
        first.session.add(
            CustomerContact(customer_id=customer.id, display_name="Ann", email="ann@f.example")
        )
        await first.session.flush()
        second = asyncio.create_task(
            customer_contacts.add_contact(
                database,
                config,
                staff,
                customer.id,
                display_name="Bob",
                email="bob@f.example",
                send_verification=False,
            )
        )
        deadline = time.monotonic() + 10
        while not waiting_on_a_lock(sync_engine):
            assert not second.done(), "the second addition did not wait for the lock"
            assert time.monotonic() < deadline, "the second addition never reached the lock"
            await asyncio.sleep(0.01)  # let the second transaction run up to the lock
        await first.commit()

    refused = await second
    assert isinstance(refused, list)
    assert [e.code for e in refused] == [ErrorCode.LIMIT_REACHED]
