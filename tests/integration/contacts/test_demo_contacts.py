"""The demo data gives every partner and customer contacts of every type (C1), and one
customer a verified primary contact; loading it again changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from prism_domain.contacts import ContactType
from prism_graph.database import Database
from prism_graph.demo import load_demo_data
from prism_graph.identity.secrets import Passwords
from prism_tables.contacts import AccountContact, AccountContactType, CustomerContact

pytestmark = pytest.mark.integration


async def count(database: Database, model: type) -> int:
    async with database.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def test_demo_accounts_have_contacts_of_every_type_and_reloading_adds_none(
    database: Database,
) -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1)
    first = await load_demo_data(database, passwords)
    counts = [await count(database, m) for m in (AccountContact, CustomerContact)]

    again = await load_demo_data(database, passwords)

    accounts = 2 + first["customers"]  # two partners and their customers
    assert first["contacts"] == 2 * accounts
    assert first["customer_contacts"] == 1
    assert again["contacts"] == again["customer_contacts"] == 0
    assert [await count(database, m) for m in (AccountContact, CustomerContact)] == counts
    async with database.engine.connect() as conn:
        types = (
            await conn.execute(
                select(AccountContactType.type, func.count()).group_by(AccountContactType.type)
            )
        ).all()
    assert dict(types) == {t: accounts for t in ContactType}
