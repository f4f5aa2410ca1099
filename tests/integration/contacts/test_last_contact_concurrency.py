"""C3 under concurrency: two simultaneous removals of a type's last two contacts leave one.

The removal locks the account's row for the type (`SELECT ... FOR UPDATE`) before it counts,
so the second transaction waits for the first and then counts what the first left.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import Engine, func, select

from prism_domain.access import Scope
from prism_domain.contacts import ContactType
from prism_domain.errors import ErrorCode
from prism_graph.contacts import by_type
from prism_graph.contacts.accounts import AccountRef
from prism_graph.database import Database
from prism_tables.contacts import AccountContactTypeMember
from tests.integration.contacts.support import waiting_on_a_lock
from tests.support.backends import postgres_requested
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

STAFF = Scope(all_partners=True)


async def two_billing_contacts(database: Database, tenants: Tenants) -> tuple[int, int]:
    account = AccountRef(organisation_id=tenants.a.id)
    ids = []
    for name in ("ann", "bob"):
        contact = await by_type.add_contact(
            database,
            STAFF,
            account,
            first_name=name,
            last_name="Lee",
            email=f"{name}-{uuid.uuid4().hex[:6]}@partner-a.example",
            contact_type=ContactType.BILLING,
        )
        assert not isinstance(contact, list)
        ids.append(contact.id)
    return ids[0], ids[1]


async def billing_members(database: Database) -> int:
    async with database.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(AccountContactTypeMember))
    return int(count or 0)


@pytest.mark.skipif(not postgres_requested(), reason="real row locks: PostgreSQL only")
async def test_the_second_removal_waits_for_the_first_and_is_refused(
    database: Database, tenants: Tenants, sync_engine: Engine
) -> None:
    ann, bob = await two_billing_contacts(database, tenants)

    async with database.unit_of_work() as first:
        removed = await by_type.remove_from_type_in(first.session, STAFF, ann, ContactType.BILLING)
        assert not isinstance(removed, list)
        # The first transaction holds the BILLING row's lock; the second must wait for it.
        second = asyncio.create_task(
            by_type.remove_from_type(database, STAFF, bob, ContactType.BILLING)
        )
        deadline = time.monotonic() + 10
        while not waiting_on_a_lock(sync_engine):
            assert not second.done(), "the second removal did not wait for the lock"
            assert time.monotonic() < deadline, "the second removal never reached the lock"
            await asyncio.sleep(0.01)  # let the second transaction run up to the lock
        await first.commit()

    refused = await second
    assert isinstance(refused, list)
    assert [e.code for e in refused] == [ErrorCode.LAST_CONTACT_OF_TYPE]
    assert await billing_members(database) == 1


async def test_simultaneous_removals_of_the_last_two_always_leave_one(
    database: Database, tenants: Tenants
) -> None:
    for _ in range(5):
        ann, bob = await two_billing_contacts(database, tenants)

        results = await asyncio.gather(
            by_type.remove_from_type(database, STAFF, ann, ContactType.BILLING),
            by_type.remove_from_type(database, STAFF, bob, ContactType.BILLING),
        )

        refused = [r for r in results if isinstance(r, list)]
        assert len(refused) == 1
        assert refused[0][0].code is ErrorCode.LAST_CONTACT_OF_TYPE
        assert await billing_members(database) == 1
        # Clear the memberships so that the next round starts from two contacts again.
        async with database.engine.begin() as conn:
            await conn.execute(AccountContactTypeMember.__table__.delete())
