"""The syncer handles each event exactly once, however often it is delivered (STYLE habit 3)."""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated
from prism_domain.events import Envelope, EnvelopeError
from prism_platform.broker import event_message
from prism_syncer import handlers as syncer_handlers
from prism_syncer.inbox import Outcome, process_event
from prism_syncer.worker import SyncerApp
from prism_tables.sync import ProcessedEvent
from tests.conftest import drain

pytestmark = pytest.mark.integration


def an_event() -> dict[str, Any]:
    return (
        CustomerCreated(
            aggregate_id="7", partner_id=1, name="Fabrikam", domain=None, status="PROSPECT"
        )
        .envelope()
        .to_dict()
    )


class Spy:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, session: Session, envelope: Envelope) -> None:
        with self._lock:
            self.calls.append(str(envelope.event_id))


def processed(engine: Engine) -> list[ProcessedEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(ProcessedEvent)))


def test_a_redelivered_event_is_handled_once(database_url: str, sync_engine: Engine) -> None:
    spy, raw = Spy(), an_event()

    first = process_event(sync_engine, raw, {"customer.created": spy})
    second = process_event(sync_engine, raw, {"customer.created": spy})

    assert (first, second) == (Outcome.HANDLED, Outcome.DUPLICATE)
    assert spy.calls == [raw["event_id"]]
    (row,) = processed(sync_engine)
    assert (row.event_id, row.type, row.outcome) == (raw["event_id"], "customer.created", "HANDLED")


def test_simultaneous_deliveries_are_handled_once(database_url: str, sync_engine: Engine) -> None:
    spy, raw = Spy(), an_event()
    outcomes: list[Outcome] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        outcomes.append(process_event(sync_engine, raw, {"customer.created": spy}))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == sorted([Outcome.HANDLED] + [Outcome.DUPLICATE] * 3)
    assert len(spy.calls) == 1


def test_a_failing_handler_leaves_no_trace_so_a_retry_handles_it(
    database_url: str, sync_engine: Engine
) -> None:
    raw = an_event()

    def broken(session: Session, envelope: Envelope) -> None:
        raise ConnectionError("PSA unreachable")

    with pytest.raises(ConnectionError):
        process_event(sync_engine, raw, {"customer.created": broken})
    assert processed(sync_engine) == []

    spy = Spy()
    assert process_event(sync_engine, raw, {"customer.created": spy}) == Outcome.HANDLED
    assert len(spy.calls) == 1


def test_an_event_without_handler_is_recorded_as_ignored(
    database_url: str, sync_engine: Engine
) -> None:
    raw = an_event()
    assert process_event(sync_engine, raw, {}) == Outcome.IGNORED
    assert [r.outcome for r in processed(sync_engine)] == ["IGNORED"]


def test_a_malformed_message_is_refused_without_retry(
    syncer: SyncerApp, database_url: str, sync_engine: Engine
) -> None:
    with pytest.raises(EnvelopeError):
        process_event(sync_engine, {"type": "customer.created"}, {})
    actor = syncer.actors["customer.created"]
    assert EnvelopeError in actor.options["throws"]
    assert actor.options["max_retries"] <= 10  # not Dramatiq's 20 retries over days


def test_the_worker_handles_a_message_delivered_twice_once(
    syncer: SyncerApp,
    worker: dramatiq.Worker,
    broker: dramatiq.Broker,
    sync_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spy = Spy()
    monkeypatch.setitem(syncer_handlers.HANDLERS, "customer.created", spy)
    raw = an_event()

    broker.enqueue(event_message(raw))
    broker.enqueue(event_message(raw))
    drain(broker, worker)

    assert spy.calls == [raw["event_id"]]
    assert [r.event_id for r in processed(sync_engine)] == [raw["event_id"]]
