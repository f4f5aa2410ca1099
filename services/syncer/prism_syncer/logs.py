"""The ids on a worker's log records: each message's event id, event type and the request id
the relay put on it (`prism_platform.broker.REQUEST_ID_OPTION`), bound for as long as its
actor runs, Dramatiq's own records of a failure or a retry included."""

from __future__ import annotations

from typing import Any

import dramatiq

from prism_platform import logging as prism_logging
from prism_platform.broker import REQUEST_ID_OPTION


class EventLogContext(dramatiq.Middleware):
    """Binds the message's ids in the worker thread before its actor runs; clears them after.

    Installed first, so that its `after_*` hooks run last (Dramatiq runs them in reverse) and
    the retry and dead-letter records of the other middleware still carry the ids."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        prism_logging.bind(
            event_id=message.message_id,
            event_type=message.actor_name,
            request_id=message.options.get(REQUEST_ID_OPTION),
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        prism_logging.clear()

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        prism_logging.clear()


def install(broker: dramatiq.Broker) -> None:
    """Add the middleware to `broker` once, ahead of the others."""
    if any(isinstance(m, EventLogContext) for m in broker.middleware):
        return
    first = type(broker.middleware[0]) if broker.middleware else None
    broker.add_middleware(EventLogContext(), before=first)
