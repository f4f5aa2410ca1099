"""Dead letters and failed outbox rows: listed, shown and replayed (`prism queue`).

The dead letters are made for real: a worker on the suite's broker (Redis when REDIS_URL is
set, else the in-process stub) runs a handler that fails until it is told to work, so
Dramatiq retries the message and then dead-letters it. Replaying relies on the inbox:
an event handled meanwhile is skipped, a failed one is handled.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_cli.main import main
from prism_domain.events import Envelope
from prism_graph.outbox.relay import Relay
from prism_platform.broker import EVENTS_QUEUE, event_message
from prism_platform.dead_letters import DeadLetter, DeadLetterStore, dead_letters_of
from prism_syncer.actors import register_event_actors
from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent
from tests.support.backends import redis_requested
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

EVENT_TYPE = "customer.created"


class Flaky:
    """A handler that fails ("the PSA is down") until `working` is set; counts its runs."""

    def __init__(self) -> None:
        self.working = False
        self.handled: list[str] = []

    def __call__(self, session: Session, envelope: Envelope) -> None:
        if not self.working:
            raise RuntimeError("the PSA is down")
        self.handled.append(str(envelope.event_id))


@pytest.fixture
def flaky() -> Flaky:
    return Flaky()


@pytest.fixture
def worker(
    broker: dramatiq.Broker, sync_engine: Engine, database_url: str, flaky: Flaky
) -> Iterator[dramatiq.Worker]:
    register_event_actors(broker, sync_engine, {EVENT_TYPE: flaky})
    w = dramatiq.Worker(broker, worker_threads=1, queues={EVENTS_QUEUE}, worker_timeout=50)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def store(broker: dramatiq.Broker) -> DeadLetterStore:
    return dead_letters_of(broker)


def envelope() -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": EVENT_TYPE,
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "aggregate_type": "customer",
        "aggregate_id": "42",
        "payload": {"customer_id": 42, "name": "Acme"},
    }


def send_until_dead(
    broker: dramatiq.Broker, store: DeadLetterStore, event: dict[str, Any]
) -> DeadLetter:
    """Send `event` allowing one quick retry; wait until Dramatiq dead-letters it."""
    message = dataclasses.replace(
        event_message(event), options={"max_retries": 1, "min_backoff": 1, "max_backoff": 5}
    )
    broker.enqueue(message)
    wait_until(
        lambda: any(x.message_id == event["event_id"] for x in store.list()),
        timeout=20,
        what="the message to be dead-lettered",
    )
    (letter,) = [x for x in store.list() if x.message_id == event["event_id"]]
    return letter


def settle(broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
    """Wait until every message sent so far was processed (dead letters allowed)."""
    if isinstance(broker, StubBroker):
        broker.join(EVENTS_QUEUE, fail_fast=False)
    else:
        broker.join(EVENTS_QUEUE, timeout=30_000)
    worker.join()


def inbox(sync_engine: Engine, event_id: str) -> ProcessedEvent | None:
    with Session(sync_engine) as session:
        return session.get(ProcessedEvent, event_id)


def test_a_message_that_kept_failing_is_dead_lettered_with_its_error(
    broker: dramatiq.Broker, store: DeadLetterStore, worker: dramatiq.Worker
) -> None:
    event = envelope()

    letter = send_until_dead(broker, store, event)

    assert letter.actor == EVENT_TYPE and letter.queue == EVENTS_QUEUE
    assert letter.envelope == event
    assert letter.retries == 1
    assert letter.error == "RuntimeError: the PSA is down"
    assert letter.traceback is not None and "in __call__" in letter.traceback


def test_replaying_a_failed_message_gets_it_handled_and_empties_the_dead_letters(
    broker: dramatiq.Broker,
    store: DeadLetterStore,
    worker: dramatiq.Worker,
    flaky: Flaky,
    sync_engine: Engine,
) -> None:
    event = envelope()
    letter = send_until_dead(broker, store, event)
    assert inbox(sync_engine, event["event_id"]) is None
    flaky.working = True  # the PSA is back

    store.replay(letter)
    settle(broker, worker)

    assert flaky.handled == [event["event_id"]]
    handled = inbox(sync_engine, event["event_id"])
    assert handled is not None and handled.outcome == "HANDLED"
    assert store.list() == []


def test_replaying_a_message_handled_meanwhile_changes_nothing(
    broker: dramatiq.Broker,
    store: DeadLetterStore,
    worker: dramatiq.Worker,
    flaky: Flaky,
    sync_engine: Engine,
) -> None:
    event = envelope()
    letter = send_until_dead(broker, store, event)
    flaky.working = True
    broker.enqueue(event_message(event))  # delivered again (at least once) and handled
    settle(broker, worker)
    before = inbox(sync_engine, event["event_id"])
    assert before is not None and flaky.handled == [event["event_id"]]

    store.replay(letter)
    settle(broker, worker)

    after = inbox(sync_engine, event["event_id"])
    assert flaky.handled == [event["event_id"]]  # the handler did not run again
    assert after is not None and after.processed_at == before.processed_at
    assert store.list() == []


# The command itself. It reads the dead letters of Redis only: the stub's live in the memory
# of the process that ran the worker, which the command says.


def prism(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["queue", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, broker: dramatiq.Broker
) -> list[str]:
    """The command's settings from the environment; its `--namespace` is the test broker's."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    if redis_requested():
        monkeypatch.setenv("REDIS_URL", str(redis_requested()))
        return ["--namespace", str(getattr(broker, "namespace", "prism"))]
    monkeypatch.delenv("REDIS_URL", raising=False)
    return []


def failed_row(sync_engine: Engine, *, minutes_to_wait: int = 4) -> OutboxEvent:
    """An outbox row as the relay leaves it when the broker refused it twice."""
    event = envelope()
    now = datetime.now(UTC)
    row = OutboxEvent(
        event_id=event["event_id"],
        type=event["type"],
        version=1,
        aggregate_type="customer",
        aggregate_id="42",
        occurred_at=now,
        payload=event["payload"],
        attempts=2,
        last_error="ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
        available_at=now + timedelta(minutes=minutes_to_wait),
    )
    with Session(sync_engine, expire_on_commit=False) as session, session.begin():
        session.add(row)
    return row


def test_the_command_lists_shows_and_replays_a_failed_outbox_row(
    capsys: pytest.CaptureFixture[str], environment: list[str], sync_engine: Engine, relay: Relay
) -> None:
    row = failed_row(sync_engine)
    assert relay.publish_pending() == 0  # backing off

    listed = prism(capsys, *environment, "list")
    shown = prism(capsys, *environment, "show", row.event_id[:8])
    replayed = prism(capsys, *environment, "replay", row.event_id)

    assert listed[0] == 0
    assert "Outbox rows the relay could not publish: 1" in listed[1]
    assert row.event_id in listed[1] and "ConnectionError" in listed[1]
    assert shown[0] == 0
    for text in (
        f"event id:    {row.event_id}",
        "event type:  customer.created (version 1)",
        "attempts:    2",
        "last error:  ConnectionError: Error 111",
        'payload:     {"customer_id": 42, "name": "Acme"}',
        "handled:     no: not in the sync worker's inbox, so a replay handles it",
    ):
        assert text in shown[1]
    assert replayed[0] == 0 and "is due now" in replayed[1]
    assert relay.publish_pending() == 1  # due now: the relay publishes it on its next pass
    with Session(sync_engine) as session:
        published = session.scalars(select(OutboxEvent)).one()
    assert published.published_at is not None and published.last_error is None
    assert prism(capsys, *environment, "list")[1].endswith(
        "Outbox rows the relay could not publish: 0\n"
    )


def test_an_unknown_id_is_exit_code_2(
    capsys: pytest.CaptureFixture[str], environment: list[str]
) -> None:
    for command in ("show", "replay"):
        code, _, err = prism(capsys, *environment, command, "0123abcd")

        assert code == 2
        assert "no dead-lettered message and no failed outbox row has the id '0123abcd'" in err


def test_on_the_in_process_broker_the_command_says_what_it_can_see(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)

    code, out, _ = prism(capsys, "list")

    assert code == 0
    assert "dead letters: not visible from here" in out
    assert "in the memory of the `prism dev` process" in out
    assert "Outbox rows the relay could not publish: 0" in out


@pytest.mark.skipif(not redis_requested(), reason="dead letters outside a process need Redis")
def test_on_redis_the_command_lists_shows_and_replays_a_dead_letter(
    capsys: pytest.CaptureFixture[str],
    environment: list[str],
    broker: dramatiq.Broker,
    store: DeadLetterStore,
    worker: dramatiq.Worker,
    flaky: Flaky,
    sync_engine: Engine,
) -> None:
    event = envelope()
    send_until_dead(broker, store, event)

    listed = prism(capsys, *environment, "list")
    shown = prism(capsys, *environment, "show", event["event_id"])
    flaky.working = True
    replayed = prism(capsys, *environment, "replay", "--all")
    settle(broker, worker)
    after = prism(capsys, *environment, "list")

    assert listed[0] == 0 and "Dead-lettered messages (Redis" in listed[1]
    assert event["event_id"] in listed[1] and "RuntimeError: the PSA is down" in listed[1]
    assert shown[0] == 0
    for text in (
        f"actor:       {EVENT_TYPE}",
        f"event id:    {event['event_id']}",
        "aggregate:   customer 42",
        "retries:     1",
        "last error:  RuntimeError: the PSA is down",
        "handled:     no",
    ):
        assert text in shown[1]
    assert replayed == (0, f"replayed {event['event_id']} ({EVENT_TYPE}) to queue events\n", "")
    assert flaky.handled == [event["event_id"]]
    assert "Dead-lettered messages (Redis" in after[1] and ": 0\n" in after[1]


def test_on_redis_an_unreachable_broker_is_exit_code_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")

    code, _, err = prism(capsys, "list")

    assert code == 1
    assert "the broker is unreachable: ConnectionError" in err
