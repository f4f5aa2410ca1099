"""Dramatiq actors: one per event type, named like it (`customer.created`), each a thin
shell that parses the message and hands it to `inbox.process_event`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dramatiq
from sqlalchemy import Engine

from prism_domain.all_events import EVENT_TYPES
from prism_domain.events import EnvelopeError
from prism_platform.broker import (
    EVENT_MAX_BACKOFF_MS,
    EVENT_MAX_RETRIES,
    EVENT_MIN_BACKOFF_MS,
    EVENT_TIME_LIMIT_MS,
    EVENTS_QUEUE,
)
from prism_syncer.inbox import Handler, process_event


def register_event_actors(
    broker: dramatiq.Broker, engine: Engine, handlers: Mapping[str, Handler]
) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Declare an actor for every known event type on `broker`; return them by name."""
    actors: dict[str, dramatiq.Actor[Any, Any]] = {}
    for event_type in sorted(EVENT_TYPES):

        def consume(envelope: dict[str, Any]) -> None:
            process_event(engine, envelope, handlers)

        consume.__name__ = event_type.replace(".", "_")
        actors[event_type] = dramatiq.actor(
            actor_name=event_type,
            queue_name=EVENTS_QUEUE,
            broker=broker,
            max_retries=EVENT_MAX_RETRIES,
            min_backoff=EVENT_MIN_BACKOFF_MS,
            max_backoff=EVENT_MAX_BACKOFF_MS,
            time_limit=EVENT_TIME_LIMIT_MS,
            # A malformed envelope will be just as malformed on the next try.
            throws=(EnvelopeError,),
        )(consume)
    return actors
