"""The message broker: Redis when REDIS_URL is set, otherwise an in-process stub broker.

Events travel on one queue; each event type is its own actor, named like the event
(`customer.created`), so the relay needs no knowledge of who consumes what.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

EVENTS_QUEUE = "events"

# Dramatiq's defaults retry 20 times over days; an event handler that failed 8 times over
# about 10 minutes needs an operator, and the dead-letter queue keeps the message for one.
EVENT_MAX_RETRIES = 8
EVENT_MIN_BACKOFF_MS = 1_000
EVENT_MAX_BACKOFF_MS = 5 * 60_000
EVENT_TIME_LIMIT_MS = 10 * 60_000


def make_broker(
    redis_url: str | None,
    *,
    namespace: str = "prism",
    heartbeat_timeout_ms: int | None = None,
    maintenance_chance: int | None = None,
) -> dramatiq.Broker:
    """`heartbeat_timeout_ms`: how long a Redis consumer may be silent before it counts as
    dead and the messages it held unacknowledged go back on the queue; `maintenance_chance`:
    in how many of a million broker commands that check runs. Unset: Dramatiq's defaults
    (60 s, 1,000)."""
    broker: dramatiq.Broker
    if redis_url:
        tuning: dict[str, int] = {}
        if heartbeat_timeout_ms is not None:
            tuning["heartbeat_timeout"] = heartbeat_timeout_ms
        if maintenance_chance is not None:
            tuning["maintenance_chance"] = maintenance_chance
        broker = RedisBroker(url=redis_url, namespace=namespace, **tuning)  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.declare_queue(EVENTS_QUEUE)
    return broker


def broker_kind(broker: dramatiq.Broker) -> str:
    return "redis" if isinstance(broker, RedisBroker) else "in-process"


def ping(broker: dramatiq.Broker) -> None:
    """Raise when the broker cannot be reached."""
    if isinstance(broker, RedisBroker):
        client: Any = broker.client
        client.ping()


#: The message option naming the HTTP request that caused the event (for the logs only).
REQUEST_ID_OPTION = "request_id"


def event_message(
    envelope: dict[str, Any], *, request_id: str | None = None
) -> dramatiq.Message[Any]:
    """The Dramatiq message that carries one event envelope to the actor named like its type.

    The request id travels as a message option, beside the envelope: it is no part of the
    event, and workers that do not know it ignore it."""
    return dramatiq.Message(
        queue_name=EVENTS_QUEUE,
        actor_name=str(envelope["type"]),
        args=(envelope,),
        kwargs={},
        options={REQUEST_ID_OPTION: request_id} if request_id else {},
        message_id=str(envelope["event_id"]),
    )
