"""GET /metrics on the API: a mutation moves its operation's latency histogram, its event
shows in the outbox gauges until the relay publishes it (and the publish lag moves), errors
are counted by code, and a client's operation names cannot grow the series without end."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
from sqlalchemy import Engine

from prism_graph.common import metrics as graphql_metrics
from prism_graph.outbox.metrics import watch_outbox
from prism_graph.outbox.relay import Relay
from prism_platform.metrics import OperationNames
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.metrics import label_values, sample, value

pytestmark = pytest.mark.integration

CREATE = """mutation MetricsCreate($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { code } } }"""


@pytest.fixture(autouse=True)
def fresh_operation_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's names count, whatever other tests of the session have sent."""
    monkeypatch.setattr(graphql_metrics, "OPERATION_NAMES", OperationNames())


@pytest.fixture
def outbox_gauges(sync_engine: Engine, broker: dramatiq.Broker) -> Iterator[None]:
    stop = watch_outbox(sync_engine, broker)
    yield
    stop()


async def scrape(client: GraphQLClient) -> str:
    response = await client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_a_mutation_moves_its_latency_and_its_event_waits_in_the_outbox_gauges(
    client: GraphQLClient, tenants: Tenants, relay: Relay, outbox_gauges: None
) -> None:
    partner = base64.b64encode(f"Organisation:{tenants.a.id}".encode()).decode()
    before = await scrape(client)

    created = await client.data(
        CREATE, {"input": {"name": f"Metrics {uuid.uuid4().hex[:6]}", "partnerId": partner}}
    )

    assert created["createCustomer"]["errors"] == []
    after = await scrape(client)
    count = "prism_graphql_request_duration_seconds_count"
    labels = {"operation": "MetricsCreate", "type": "mutation"}
    assert value(after, count, **labels) == value(before, count, **labels) + 1
    assert (sample(after, "prism_outbox_unsent_events") or 0) >= 1
    assert (sample(after, "prism_outbox_oldest_unsent_age_seconds") or -1) >= 0

    published = relay.publish_pending()

    assert published >= 1
    drained = await scrape(client)
    assert sample(drained, "prism_outbox_unsent_events") == 0
    assert sample(drained, "prism_outbox_oldest_unsent_age_seconds") == 0
    lag = "prism_outbox_publish_lag_seconds_count"
    assert value(drained, lag) == value(after, lag) + published
    assert (sample(drained, "prism_events_queued_messages") or 0) >= 1
    assert sample(drained, "prism_dead_letters") == 0


async def test_errors_are_counted_by_operation_and_code(client: GraphQLClient) -> None:
    before = await scrape(client)

    syntax = await client.post("{ customers(")
    too_big = await client.post("query TooBig { customers(first: 500) { totalCount } }")

    assert syntax["errors"] and too_big["errors"]
    after = await scrape(client)
    errors = "prism_graphql_errors_total"
    invalid = {"operation": "anonymous", "code": "INVALID_REQUEST"}
    refused = {"operation": "TooBig", "code": "BAD_REQUEST"}
    assert value(after, errors, **invalid) == value(before, errors, **invalid) + 1
    assert value(after, errors, **refused) == value(before, errors, **refused) + 1


async def test_invented_operation_names_end_up_as_other(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphql_metrics, "OPERATION_NAMES", OperationNames(limit=2))
    names = [f"Invented{uuid.uuid4().hex}" for _ in range(6)]

    for name in names:
        await client.data(f"query {name} {{ __typename }}")
    await client.data("query " + "Long" * 100 + " { __typename }")

    text = await scrape(client)
    seen = label_values(text, "prism_graphql_request_duration_seconds_count", "operation")
    assert {names[0], names[1], "other"} <= seen
    assert not set(names[2:]) & seen
    assert not any(len(label) > 64 for label in seen)
