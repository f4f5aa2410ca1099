"""Exactly-once handling on top of at-least-once delivery (STYLE habit 3).

The handler runs in the same transaction that inserts the event's inbox row. A second
delivery of the same event finds the row (or, when both run at once, waits for the first
transaction and then finds it) and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_domain.events import Envelope
from prism_platform.db import conflict_insert, utcnow, writer
from prism_platform.logging import log_context
from prism_tables.sync import ProcessedEvent

log = logging.getLogger(__name__)

Handler = Callable[[Session, Envelope], None]


class Outcome(StrEnum):
    HANDLED = "HANDLED"
    IGNORED = "IGNORED"  # no handler: recorded so that the log shows it arrived
    DUPLICATE = "DUPLICATE"


def process_event(
    engine: Engine, raw: Mapping[str, Any], handlers: Mapping[str, Handler]
) -> Outcome:
    envelope = Envelope.from_dict(raw)
    # The actor's middleware binds these for Dramatiq; callers without it get them too.
    with log_context(event_id=envelope.event_id, event_type=envelope.type):
        return _process(engine, envelope, handlers)


def _process(engine: Engine, envelope: Envelope, handlers: Mapping[str, Handler]) -> Outcome:
    handler = handlers.get(envelope.type)
    outcome = Outcome.HANDLED if handler else Outcome.IGNORED
    insert = conflict_insert(engine.dialect.name)
    with Session(writer(engine)) as session, session.begin():
        claimed = session.execute(
            insert(ProcessedEvent)
            .values(
                event_id=str(envelope.event_id),
                type=envelope.type,
                version=envelope.version,
                occurred_at=envelope.occurred_at,
                processed_at=utcnow(),
                outcome=outcome.value,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(ProcessedEvent.event_id)
        ).first()
        if claimed is None:
            log.info("event %s (%s) already handled; skipped", envelope.event_id, envelope.type)
            return Outcome.DUPLICATE
        if handler is not None:
            handler(session, envelope)
    log.info("event %s (%s) %s", envelope.event_id, envelope.type, outcome.value.lower())
    return outcome
