"""Partner webhooks (issue 16, N5): registered through the API, fanned out by the worker from
the outbox, signed, retried with back-off, recorded, re-sent, and each partner's own."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_domain.catalogue import ProductPriceChanged
from prism_domain.invoicing import InvoiceIssued
from prism_graph.outbox.relay import Relay
from prism_graph.outbox.schedule import Scheduler, webhook_sweep_schedule
from prism_platform.broker import event_message
from prism_psa.secrets import WEBHOOK_SECRETS, CredentialCipher
from prism_syncer.webhooks import sender
from prism_syncer.worker import SyncerApp
from prism_tables.outbox import OutboxEvent
from prism_tables.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import drain
from tests.integration.webhooks.conftest import Receiver
from tests.support.catalogue import create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

CREATE = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    endpoint { id url eventTypes enabled description }
    secret
    errors { field code message }
  }
}
"""
ENDPOINT = """
query($id: ID!) {
  webhookEndpoint(id: $id) {
    id url
    deliveries {
      totalCount
      edges { node {
        id deliveryId eventId eventType status attemptCount nextAttemptAt lastAttemptAt body
        attempts { requestedAt httpStatus responseBody error succeeded durationMs }
      } }
    }
  }
}
"""
RESEND = """
mutation($input: ResendWebhookDeliveryInput!) {
  resendWebhookDelivery(input: $input) {
    delivery { id deliveryId }
    errors { field code message }
  }
}
"""


class Clock:
    """The worker's webhook clock, moved by the test (no sleeping through back-offs)."""

    def __init__(self) -> None:
        # At the start of a 30-second sweep slot, so that each step the tests take lands in
        # a slot of its own, whatever the time the test runs at.
        now = datetime.now(UTC).replace(microsecond=0)
        self.at = now - timedelta(seconds=now.second % 30)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    stopped = Clock()
    monkeypatch.setattr(sender, "now", stopped)
    yield stopped


def signed_by(secret: str, headers: dict[str, str], body: bytes, now: datetime) -> bool:
    """The receiver's check, as docs/api.md shows it: HMAC-SHA256 of "<t>.<body>", and a
    timestamp within 5 minutes."""
    parts = dict(p.split("=", 1) for p in headers["Prism-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    fresh = abs(now.timestamp() - int(parts["t"])) <= 300
    return fresh and hmac.compare_digest(expected, parts["v1"])


async def register(
    client: GraphQLClient, url: str, types: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    data = await client.data(
        CREATE,
        {"input": {"url": url, "eventTypes": types or ["PRODUCT_PRICE_CHANGED"], **extra}},
    )
    payload: dict[str, Any] = data["createWebhookEndpoint"]
    return payload


async def deliveries_of(client: GraphQLClient, endpoint_id: str) -> list[dict[str, Any]]:
    data = await client.data(ENDPOINT, {"id": endpoint_id})
    return [e["node"] for e in data["webhookEndpoint"]["deliveries"]["edges"]]


async def change_a_price(client: GraphQLClient) -> None:
    """The distributor adds a product to its price list: a `product.price_changed` event,
    for every partner (the price list is the distributor's)."""
    await create_product(client, await create_program(client))


def relay_and_work(relay: Relay, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    relay.publish_pending()
    drain(broker, worker)


def call_for_due_attempts(
    engine: Engine, relay: Relay, broker: dramatiq.Broker, worker: dramatiq.Worker, at: datetime
) -> None:
    """What a relay does every WEBHOOKS_SWEEP_INTERVAL: stage the call, publish it."""
    assert Scheduler(engine, webhook_sweep_schedule(30)).stage_due(at) == 1
    relay_and_work(relay, broker, worker)


async def test_a_receiver_gets_each_event_once_signed_and_the_attempt_is_recorded(
    client: GraphQLClient,
    tenants: Tenants,
    anonymous: GraphQLClient,
    receiver: Receiver,
    relay: Relay,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    clock: Clock,
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    created = await register(partner, receiver.url, description="Billing tool")
    assert created["errors"] == []
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert created["endpoint"]["eventTypes"] == ["PRODUCT_PRICE_CHANGED"]

    await change_a_price(client)
    relay_and_work(relay, broker, worker)

    (request,) = receiver.requests
    assert signed_by(secret, request.headers, request.body, clock())
    assert not signed_by("whsec_another", request.headers, request.body, clock())
    body = json.loads(request.body)
    assert request.headers["Prism-Event"] == body["type"] == "product.price_changed"
    assert body["data"]["new_rrp"] == "9.00"
    (delivery,) = await deliveries_of(partner, created["endpoint"]["id"])
    assert delivery["deliveryId"] == request.headers["Prism-Delivery"]
    assert delivery["eventId"] == body["id"]
    assert delivery["body"].encode() == request.body
    assert (delivery["status"], delivery["attemptCount"]) == ("SUCCEEDED", 1)
    assert delivery["nextAttemptAt"] is None
    (attempt,) = delivery["attempts"]
    assert (attempt["httpStatus"], attempt["succeeded"], attempt["error"]) == (200, True, None)
    assert attempt["responseBody"] == '{"ok":true}'

    # A re-send of a delivered event is one more attempt: failing, it is FAILED, not retried.
    receiver.status = 503
    await partner.data(RESEND, {"input": {"id": delivery["id"]}})
    relay_and_work(relay, broker, worker)
    (delivery,) = await deliveries_of(partner, created["endpoint"]["id"])
    assert (delivery["status"], delivery["attemptCount"]) == ("FAILED", 2)
    assert [a["httpStatus"] for a in delivery["attempts"]] == [200, 503]
    assert len(receiver.requests) == 2


async def test_a_failing_receiver_is_retried_with_back_off_then_failed_and_a_resend_succeeds(
    client: GraphQLClient,
    tenants: Tenants,
    anonymous: GraphQLClient,
    receiver: Receiver,
    relay: Relay,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    sync_engine: Engine,
    clock: Clock,
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    created = await register(partner, receiver.url)
    endpoint_id = created["endpoint"]["id"]
    receiver.status, receiver.answer = 500, b"database down"

    await change_a_price(client)
    relay_and_work(relay, broker, worker)

    (delivery,) = await deliveries_of(partner, endpoint_id)
    assert (delivery["status"], delivery["attemptCount"]) == ("PENDING", 1)
    first_retry = datetime.fromisoformat(delivery["nextAttemptAt"])
    assert first_retry == clock() + timedelta(seconds=30)

    # Not due yet: a call for due attempts sends nothing.
    clock.advance(timedelta(seconds=10))
    call_for_due_attempts(sync_engine, relay, broker, worker, clock())
    assert len(receiver.requests) == 1

    clock.advance(timedelta(seconds=25))  # past the first back-off (30 s)
    call_for_due_attempts(sync_engine, relay, broker, worker, clock())
    (delivery,) = await deliveries_of(partner, endpoint_id)
    assert (delivery["status"], delivery["attemptCount"]) == ("PENDING", 2)
    assert datetime.fromisoformat(delivery["nextAttemptAt"]) == clock() + timedelta(seconds=60)

    clock.advance(timedelta(seconds=61))  # past the second, doubled (60 s)
    call_for_due_attempts(sync_engine, relay, broker, worker, clock())
    (delivery,) = await deliveries_of(partner, endpoint_id)
    assert (delivery["status"], delivery["attemptCount"]) == ("FAILED", 3)  # max 3 attempts
    assert delivery["nextAttemptAt"] is None
    assert [(a["httpStatus"], a["succeeded"]) for a in delivery["attempts"]] == [(500, False)] * 3
    assert {a["responseBody"] for a in delivery["attempts"]} == {"database down"}
    assert len(receiver.requests) == 3  # once per attempt
    assert len({r.headers["Prism-Delivery"] for r in receiver.requests}) == 1

    # FAILED stays failed: the next call sends nothing more.
    clock.advance(timedelta(hours=2))
    call_for_due_attempts(sync_engine, relay, broker, worker, clock())
    assert len(receiver.requests) == 3

    receiver.status, receiver.answer = 204, b""
    resent = await partner.data(RESEND, {"input": {"id": delivery["id"]}})
    assert resent["resendWebhookDelivery"]["errors"] == []
    assert len(receiver.requests) == 3  # nothing is sent from the request
    relay_and_work(relay, broker, worker)

    assert len(receiver.requests) == 4
    last = receiver.requests[-1]
    assert last.headers["Prism-Delivery"] == delivery["deliveryId"]
    assert signed_by(created["secret"], last.headers, last.body, clock())
    (delivery,) = await deliveries_of(partner, endpoint_id)
    assert (delivery["status"], delivery["attemptCount"]) == ("SUCCEEDED", 4)
    assert [a["httpStatus"] for a in delivery["attempts"]] == [500, 500, 500, 204]


async def test_a_redelivered_event_creates_its_deliveries_once(
    tenants: Tenants,
    anonymous: GraphQLClient,
    receiver: Receiver,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    sync_engine: Engine,
) -> None:
    for org in (tenants.a, tenants.b):
        await register(anonymous.as_(org.admin), receiver.url)
    event = ProductPriceChanged(
        aggregate_id="41",
        program_id=7,
        sku="SKU-1",
        currency="AUD",
        effective_from="2026-12-01",
        old_buy_price="8.00",
        old_rrp="9.00",
        new_buy_price="8.50",
        new_rrp="9.50",
    ).envelope()

    broker.enqueue(event_message(event.to_dict()))
    broker.enqueue(event_message(event.to_dict()))
    drain(broker, worker)

    with Session(sync_engine) as session:
        rows = session.scalars(select(WebhookDelivery)).all()
        attempts = session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert sorted(r.partner_id for r in rows) == sorted([tenants.a.id, tenants.b.id])
    assert attempts == 2
    assert len(receiver.requests) == 2  # one per partner's endpoint, not one per delivery


async def test_an_event_of_one_partner_goes_to_that_partners_endpoints_only(
    tenants: Tenants,
    anonymous: GraphQLClient,
    receiver: Receiver,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    sync_engine: Engine,
) -> None:
    mine = await register(anonymous.as_(tenants.a.admin), receiver.url, ["INVOICE_ISSUED"])
    await register(anonymous.as_(tenants.b.admin), receiver.url, ["INVOICE_ISSUED"])
    await register(anonymous.as_(tenants.a.admin), receiver.url, ["PRODUCT_PRICE_CHANGED"])
    issued = InvoiceIssued(
        aggregate_id="9",
        invoice_id=9,
        partner_id=tenants.a.id,
        program_id=3,
        currency="AUD",
        period_start="2026-11-01",
        period_end="2026-11-30",
        total="81.00",
        lines=(),
    ).envelope()

    broker.enqueue(event_message(issued.to_dict()))
    drain(broker, worker)

    (request,) = receiver.requests
    assert json.loads(request.body)["data"]["partner_id"] == tenants.a.id
    with Session(sync_engine) as session:
        (row,) = session.scalars(select(WebhookDelivery)).all()
    assert row.partner_id == tenants.a.id
    assert signed_by(mine["secret"], request.headers, request.body, datetime.now(UTC))


async def test_the_secret_is_shown_once_and_stored_encrypted(
    tenants: Tenants, anonymous: GraphQLClient, receiver: Receiver, sync_engine: Engine
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    created = await register(partner, receiver.url)
    secret = created["secret"]

    fields = await partner.data('{ __type(name: "WebhookEndpoint") { fields { name } } }')
    names = {f["name"].lower() for f in fields["__type"]["fields"]}
    assert not {n for n in names if "secret" in n}
    refused = await partner.post(
        "query($id: ID!) { webhookEndpoint(id: $id) { secret } }",
        {"id": created["endpoint"]["id"]},
    )
    assert refused["errors"] and "secret" in refused["errors"][0]["message"]
    with Session(sync_engine) as session:
        (row,) = session.scalars(select(WebhookEndpoint)).all()
    assert secret not in row.secret_encrypted
    assert secret[len("whsec_") :] not in row.secret_encrypted
    # Encrypted, not hashed: the worker must read it back to sign.
    from prism_platform.settings import DEV_SECRET_KEY

    assert CredentialCipher(DEV_SECRET_KEY, WEBHOOK_SECRETS).decrypt(row.secret_encrypted) == secret

    rotated = await partner.data(
        "mutation($input: WebhookEndpointIdInput!) { rotateWebhookSecret(input: $input) {"
        " secret errors { code } } }",
        {"input": {"id": created["endpoint"]["id"]}},
    )
    new = rotated["rotateWebhookSecret"]["secret"]
    assert new.startswith("whsec_") and new != secret


async def test_another_partner_can_neither_see_nor_resend_your_deliveries(
    client: GraphQLClient,
    tenants: Tenants,
    anonymous: GraphQLClient,
    receiver: Receiver,
    relay: Relay,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    sync_engine: Engine,
) -> None:
    mine, other = anonymous.as_(tenants.a.admin), anonymous.as_(tenants.b.admin)
    created = await register(mine, receiver.url)
    endpoint_id = created["endpoint"]["id"]
    await change_a_price(client)
    relay_and_work(relay, broker, worker)
    (delivery,) = await deliveries_of(mine, endpoint_id)

    seen = await other.data(
        "query($e: ID!, $d: ID!) { webhookEndpoint(id: $e) { id } node(id: $d) { id }"
        " webhookEndpoints { totalCount } }",
        {"e": endpoint_id, "d": delivery["id"]},
    )
    assert seen == {"webhookEndpoint": None, "node": None, "webhookEndpoints": {"totalCount": 0}}
    with Session(sync_engine) as session:
        events_before = session.scalar(select(func.count()).select_from(OutboxEvent))
    resent = await other.data(RESEND, {"input": {"id": delivery["id"]}})
    assert resent["resendWebhookDelivery"]["delivery"] is None
    assert [e["code"] for e in resent["resendWebhookDelivery"]["errors"]] == ["NOT_FOUND"]
    deleted = await other.data(
        "mutation($input: WebhookEndpointIdInput!) { deleteWebhookEndpoint(input: $input) {"
        " deletedId errors { code } } }",
        {"input": {"id": endpoint_id}},
    )
    assert deleted["deleteWebhookEndpoint"] == {
        "deletedId": None,
        "errors": [{"code": "NOT_FOUND"}],
    }
    with Session(sync_engine) as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == events_before
    # A member of the partner (not an admin) may not manage them either.
    refused = await anonymous.as_(tenants.a.member).post("{ webhookEndpoints { totalCount } }")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The owner still sees it, unchanged.
    assert [d["id"] for d in await deliveries_of(mine, endpoint_id)] == [delivery["id"]]


async def test_bad_endpoints_are_refused_clearly(
    tenants: Tenants, anonymous: GraphQLClient, receiver: Receiver, sync_engine: Engine
) -> None:
    partner = anonymous.as_(tenants.a.admin)

    async def refusal(url: str, **extra: Any) -> list[tuple[str, str]]:
        payload = await register(partner, url, **extra)
        assert payload["endpoint"] is None and payload["secret"] is None
        return [(e["field"], e["code"]) for e in payload["errors"]]

    assert await refusal("http://hooks.example.com/prism") == [("input.url", "INVALID")]
    assert await refusal("ftp://hooks.example.com/") == [("input.url", "INVALID")]
    assert await refusal("not a url") == [("input.url", "INVALID")]
    assert await refusal("https://user:pw@hooks.example.com/") == [("input.url", "INVALID")]
    assert await refusal("https://hooks.example.com/" + "a" * 2000) == [("input.url", "TOO_LONG")]
    assert await refusal(receiver.url, description="x" * 501) == [("input.description", "TOO_LONG")]
    assert await refusal(receiver.url, eventTypes=[]) == [("input.eventTypes", "REQUIRED")]
    unknown = await partner.post(
        CREATE, {"input": {"url": receiver.url, "eventTypes": ["INVOICE_PAID"]}}
    )
    assert unknown["errors"] and "INVOICE_PAID" in unknown["errors"][0]["message"]
    for _ in range(10):
        assert (await register(partner, "https://hooks.example.com/prism"))["errors"] == []
    assert await refusal("https://hooks.example.com/eleventh") == [("input", "LIMIT_REACHED")]
    with Session(sync_engine) as session:
        assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 10


async def test_an_endpoint_is_changed_disabled_and_deleted(
    client: GraphQLClient,
    tenants: Tenants,
    anonymous: GraphQLClient,
    receiver: Receiver,
    relay: Relay,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    syncer: SyncerApp,
) -> None:
    partner = anonymous.as_(tenants.a.admin)
    created = await register(partner, "https://hooks.example.com/prism")
    endpoint_id = created["endpoint"]["id"]
    update = """
    mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
      endpoint { url eventTypes enabled description } errors { field code } } }
    """
    changed = await partner.data(
        update,
        {
            "input": {
                "id": endpoint_id,
                "url": receiver.url,
                "eventTypes": ["PRODUCT_PRICE_CHANGED", "INVOICE_SYNC_RUN_FAILED"],
                "description": "ERP",
                "enabled": False,
            }
        },
    )
    assert changed["updateWebhookEndpoint"] == {
        "endpoint": {
            "url": receiver.url,
            "eventTypes": ["INVOICE_SYNC_RUN_FAILED", "PRODUCT_PRICE_CHANGED"],
            "enabled": False,
            "description": "ERP",
        },
        "errors": [],
    }
    bad = await partner.data(update, {"input": {"id": endpoint_id, "url": "http://x.example"}})
    assert bad["updateWebhookEndpoint"]["errors"] == [{"field": "input.url", "code": "INVALID"}]

    await change_a_price(client)
    relay_and_work(relay, broker, worker)
    assert receiver.requests == []  # disabled: no delivery
    assert await deliveries_of(partner, endpoint_id) == []

    deleted = await partner.data(
        "mutation($input: WebhookEndpointIdInput!) { deleteWebhookEndpoint(input: $input) {"
        " deletedId errors { code } } }",
        {"input": {"id": endpoint_id}},
    )
    assert deleted["deleteWebhookEndpoint"] == {"deletedId": endpoint_id, "errors": []}
    gone = await partner.data(ENDPOINT, {"id": endpoint_id})
    assert gone["webhookEndpoint"] is None
