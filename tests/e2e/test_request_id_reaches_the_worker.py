"""One id from the HTTP request to the worker (N4): a mutation's request id is kept on the
outbox row, travels on the message, and is on the worker's records of handling the event,
with the event's id and type; an old message without it is still handled."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated
from prism_graph.database import Database
from prism_graph.outbox.relay import Relay
from prism_platform.broker import event_message
from prism_syncer.worker import SyncerApp
from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent
from tests.conftest import drain
from tests.integration.customers.test_customers_api import CREATE, add_organisations
from tests.support.graphql import GraphQLClient
from tests.support.logs import captured_logs

pytestmark = pytest.mark.e2e


async def test_a_mutation_s_request_id_is_on_the_worker_s_records_of_its_event(
    client: GraphQLClient,
    database: Database,
    relay: Relay,
    syncer: SyncerApp,
    worker: dramatiq.Worker,
    broker: dramatiq.Broker,
    sync_engine: Engine,
) -> None:
    orgs = await add_organisations(database)
    request_id = f"req-{uuid.uuid4().hex}"

    with captured_logs() as logs:
        response = await client.as_(client.token, x_request_id=request_id).raw(
            CREATE, {"input": {"name": "Northwind Traders", "partnerId": orgs["Partner A"]}}
        )
        assert response.json()["data"]["createCustomer"]["errors"] == []
        assert response.headers["x-request-id"] == request_id
        while relay.publish_pending():
            pass
        drain(broker, worker)

    with Session(sync_engine) as session:
        event = session.scalars(select(OutboxEvent)).one()
        handled = session.scalars(select(ProcessedEvent)).one()
    assert event.request_id == request_id
    assert handled.event_id == event.event_id

    in_worker = [line for line in logs.lines() if line["logger"] == "prism_syncer.inbox"]
    assert [line["message"] for line in in_worker] == [
        f"event {event.event_id} (customer.created) handled"
    ]
    (line,) = in_worker
    assert (line["request_id"], line["event_id"], line["event_type"]) == (
        request_id,
        event.event_id,
        "customer.created",
    )


async def test_a_message_without_a_request_id_is_handled_and_logged_without_one(
    syncer: SyncerApp,
    worker: dramatiq.Worker,
    broker: dramatiq.Broker,
    sync_engine: Engine,
) -> None:
    event = CustomerCreated(
        aggregate_id="7", partner_id=None, name="Contoso", domain=None, status="PROSPECT"
    )
    envelope = event.envelope().to_dict()

    with captured_logs() as logs:
        broker.enqueue(event_message(envelope))  # as relays before request ids sent them
        drain(broker, worker)

    with Session(sync_engine) as session:
        assert session.scalars(select(ProcessedEvent.event_id)).all() == [envelope["event_id"]]
    (line,) = [line for line in logs.lines() if line["logger"] == "prism_syncer.inbox"]
    assert line["event_id"] == envelope["event_id"]
    assert "request_id" not in line
