"""Issue 2's one real event, end to end: creating a customer through the API publishes
`customer.created` through the outbox and the broker, and the syncer handles it exactly once
even when it is delivered twice."""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_graph.database import Database
from prism_graph.outbox.relay import Relay
from prism_platform.broker import event_message
from prism_syncer import handlers as syncer_handlers
from prism_syncer.worker import SyncerApp
from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent
from tests.conftest import drain
from tests.integration.customers.test_customers_api import CREATE, add_organisations
from tests.support.graphql import GraphQLClient
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


async def test_customer_created_reaches_the_syncer_once(
    client: GraphQLClient,
    database: Database,
    relay: Relay,
    syncer: SyncerApp,
    worker: dramatiq.Worker,
    broker: dramatiq.Broker,
    sync_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    original = syncer_handlers.HANDLERS["customer.created"]

    def spy(session: Session, envelope: Any) -> None:
        seen.append(envelope.payload)
        original(session, envelope)

    monkeypatch.setitem(syncer_handlers.HANDLERS, "customer.created", spy)
    orgs = await add_organisations(database)
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,))
    relay_thread.start()
    try:
        data = await client.data(
            CREATE, {"input": {"name": "Northwind Traders", "partnerId": orgs["Partner A"]}}
        )
        assert data["createCustomer"]["errors"] == []

        def published() -> bool:
            with Session(sync_engine) as session:
                return session.scalar(select(OutboxEvent.published_at)) is not None

        wait_until(published, what="the relay to publish customer.created")
    finally:
        stop.set()
        database.signal.notify()  # type: ignore[union-attr]
        relay_thread.join(timeout=10)
    drain(broker, worker)

    with Session(sync_engine) as session:
        event = session.scalars(select(OutboxEvent)).one()
        handled = session.scalars(select(ProcessedEvent)).all()
    assert [(h.event_id, h.type, h.outcome) for h in handled] == [
        (event.event_id, "customer.created", "HANDLED")
    ]
    assert [p["name"] for p in seen] == ["Northwind Traders"]

    # The broker delivers it again (a relay that died before marking it sent, a redelivery).
    broker.enqueue(event_message(event.envelope()))
    drain(broker, worker)

    with Session(sync_engine) as session:
        assert len(session.scalars(select(ProcessedEvent)).all()) == 1
    assert len(seen) == 1
