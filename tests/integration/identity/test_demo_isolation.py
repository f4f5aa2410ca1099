"""Issue 3's demonstration on the demo data itself: Contoso's admin cannot read or change
anything of Northwind through any field, and the audit log shows the demo's mutations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_graph.database import Database
from prism_graph.demo import DEMO_PASSWORD, load_demo_data
from prism_graph.identity.secrets import Passwords
from prism_tables.customers import Customer
from prism_tables.identity import User
from prism_tables.organisations import Organisation
from tests.integration.identity.test_tenant_isolation import (
    Foreign,
    _decode,
    fresh_token,
    operations,
    snapshot,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import gid
from tests.support.identity import sign_in as sign_in_as

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.model_copy(
        update={"max_tokens": 100_000, "max_depth": 20, "max_aliases": 10_000}
    )


async def sign_in(anonymous: GraphQLClient, email: str) -> GraphQLClient:
    payload = await sign_in_as(anonymous, email, DEMO_PASSWORD)
    return anonymous.as_(payload["accessToken"])


async def test_contoso_cannot_reach_northwind_and_the_log_shows_the_demo(
    anonymous: GraphQLClient, database: Database, sync_engine: Engine
) -> None:
    await load_demo_data(database, Passwords(time_cost=1, memory_kib=8, parallelism=1))
    async with AsyncSession(database.engine) as session:
        northwind = (
            await session.scalars(select(Organisation).where(Organisation.name == "Northwind MSP"))
        ).one()
        customers = (
            await session.scalars(select(Customer).where(Customer.owner_id == northwind.id))
        ).all()
        users = (
            await session.scalars(select(User).where(User.organisation_id == northwind.id))
        ).all()
    foreign = Foreign(
        ids=[gid("Organisation", northwind.id)]
        + [gid("Customer", c.id) for c in customers]
        + [gid("User", u.id) for u in users],
        secrets=[c.name for c in customers] + [u.email for u in users] + ["northwind-msp.example"],
        customer_ids={c.id for c in customers},
        user_ids={u.id for u in users},
        client_ids=set(),
        partner_ids={northwind.id},
    )
    before = snapshot(sync_engine, foreign)

    contoso = await sign_in(anonymous, "admin@contoso-partners.example")
    me = await contoso.data("{ me { user { id } } }")
    contoso_id = int(_decode(me["me"]["user"]["id"])[2])
    leaks = []
    for kind in ("query", "mutation"):
        for name, operation in operations(kind, foreign.ids):
            # A token per call: the walk signs out and changes passwords too.
            caller = anonymous.as_(await fresh_token(database, contoso_id))
            body = json.dumps(await caller.post(operation))
            assert '"UNAUTHENTICATED"' not in body, (operation, body)
            leaks += [f"{kind} {name}: {s}" for s in foreign.secrets if s in body]

    assert leaks == []
    assert snapshot(sync_engine, foreign) == before
    contoso = anonymous.as_(await fresh_token(database, contoso_id))
    operations_logged: set[str] = set()
    after = None
    while True:
        log = await contoso.data(
            "query($after: String) { auditLog(first: 100, after: $after) {"
            " edges { node { operation } } pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        )
        operations_logged |= {e["node"]["operation"] for e in log["auditLog"]["edges"]}
        if not log["auditLog"]["pageInfo"]["hasNextPage"]:
            break
        after = log["auditLog"]["pageInfo"]["endCursor"]
    # Every mutation the walk made as Contoso is there (refused, denied or not).
    walked_mutations = {name for name, _ in operations("mutation", foreign.ids)} - {
        "signIn",
        "acceptInvitation",
    }
    missing = {m for m in walked_mutations if m not in operations_logged}
    assert missing <= {"requestContactSignIn", "signInWithLink", "verifyContact"}, missing
