"""The transactional outbox and its relay (issue 2, STYLE habit 2).

Events commit with their data or not at all; the relay publishes them at least once, in
the face of a broker that is down and of a relay killed between publishing and marking.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_domain.customers import CustomerCreated, CustomerStatus
from prism_domain.organisations import OrganisationKind
from prism_graph.database import Database
from prism_graph.outbox.relay import Relay
from prism_graph.outbox.schedule import Periodic, Scheduler, safety_check_schedule
from prism_graph.outbox.signal import OutboxSignal
from prism_platform.db import utcnow
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.outbox import OutboxEvent
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


class Killed(BaseException):
    """Stands for the process dying: nothing in the relay may catch it."""


class RecordingBroker:
    """Wraps the real broker: records what was enqueued, and can be down or die mid-way."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker
        self.down = False
        self.die_after_enqueue = False
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def enqueue(self, message: dramatiq.Message[Any], **kwargs: Any) -> Any:
        if self.down:
            raise ConnectionError("broker unreachable")
        result = self.broker.enqueue(message, **kwargs)
        with self._lock:
            self.sent.append(message.message_id)
        if self.die_after_enqueue:
            raise Killed()
        return result


async def record_customer(database: Database, name: str, *, fail: bool = False) -> None:
    async with database.unit_of_work() as uow:
        org = Organisation(kind=OrganisationKind.PARTNER, name=f"P {name}", domain=None)
        uow.session.add(org)
        await uow.session.flush()
        customer = Customer(
            owner_id=org.id,
            name=name,
            name_key=name.casefold(),
            domain=None,
            status=CustomerStatus.PROSPECT,
        )
        uow.session.add(customer)
        await uow.session.flush()
        uow.record(
            CustomerCreated(
                aggregate_id=str(customer.id),
                partner_id=org.id,
                name=name,
                domain=None,
                status="PROSPECT",
            )
        )
        if fail:
            raise RuntimeError("the request failed before commit")
        await uow.commit()


def outbox_rows(engine: Engine) -> list[OutboxEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def count(engine: Engine, model: type[Any]) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_events_commit_with_their_data_or_not_at_all(
    database: Database, sync_engine: Engine
) -> None:
    with pytest.raises(RuntimeError):
        await record_customer(database, "Rolled Back", fail=True)
    assert count(sync_engine, Customer) == 0
    assert count(sync_engine, OutboxEvent) == 0

    await record_customer(database, "Committed")

    assert count(sync_engine, Customer) == 1
    (row,) = outbox_rows(sync_engine)
    assert (row.type, row.version, row.payload["name"]) == ("customer.created", 1, "Committed")
    assert row.published_at is None


async def test_the_relay_publishes_and_marks_sent(
    database: Database, sync_engine: Engine, broker: dramatiq.Broker
) -> None:
    recording = RecordingBroker(broker)
    relay = Relay(sync_engine, recording)  # type: ignore[arg-type]
    for i in range(3):
        await record_customer(database, f"C{i}")

    assert relay.publish_pending() == 3
    assert relay.publish_pending() == 0

    rows = outbox_rows(sync_engine)
    assert all(r.published_at is not None and r.attempts == 1 for r in rows)
    assert recording.sent == [r.event_id for r in rows]


async def test_a_mutation_succeeds_while_the_broker_is_down_and_its_event_waits(
    database: Database, sync_engine: Engine, broker: dramatiq.Broker
) -> None:
    recording = RecordingBroker(broker)
    recording.down = True
    relay = Relay(sync_engine, recording)  # type: ignore[arg-type]

    await record_customer(database, "While Down")  # the API never touches the broker
    assert relay.publish_pending() == 0

    (row,) = outbox_rows(sync_engine)
    assert row.published_at is None
    assert row.attempts == 1
    assert "broker unreachable" in (row.last_error or "")
    assert row.available_at > utcnow()  # backed off: not hammered
    assert relay.publish_pending() == 0  # not due yet

    recording.down = False
    assert relay.publish_pending(now=utcnow() + timedelta(minutes=10)) == 1
    (row,) = outbox_rows(sync_engine)
    assert row.published_at is not None and row.last_error is None
    assert recording.sent == [row.event_id]


async def test_a_relay_killed_after_publishing_publishes_again(
    database: Database, sync_engine: Engine, broker: dramatiq.Broker
) -> None:
    recording = RecordingBroker(broker)
    await record_customer(database, "Twice")

    recording.die_after_enqueue = True
    with pytest.raises(Killed):
        Relay(sync_engine, recording).publish_pending()  # type: ignore[arg-type]
    (row,) = outbox_rows(sync_engine)
    assert row.published_at is None  # the mark was never committed

    recording.die_after_enqueue = False
    assert Relay(sync_engine, recording).publish_pending() == 1  # type: ignore[arg-type]
    assert recording.sent == [row.event_id, row.event_id]  # at least once: consumers dedupe


async def test_concurrent_relays_publish_each_event_once(
    database: Database, sync_engine: Engine, broker: dramatiq.Broker
) -> None:
    for i in range(60):
        await record_customer(database, f"Concurrent {i}")
    recording = RecordingBroker(broker)
    relays = [Relay(sync_engine, recording, batch_size=7) for _ in range(3)]  # type: ignore[arg-type]
    start = threading.Barrier(len(relays))

    def drain(relay: Relay) -> None:
        start.wait()
        while relay.publish_pending():
            pass

    threads = [threading.Thread(target=drain, args=(r,)) for r in relays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(recording.sent) == sorted(r.event_id for r in outbox_rows(sync_engine))
    assert len(set(recording.sent)) == 60


async def test_a_running_relay_is_woken_by_a_commit(
    database: Database, sync_engine: Engine, broker: dramatiq.Broker, outbox_signal: OutboxSignal
) -> None:
    # The poll interval is far longer than the wait below: only the wake-up (the in-process
    # signal on SQLite, LISTEN/NOTIFY on PostgreSQL) can get the event out in time.
    recording = RecordingBroker(broker)
    on_postgres = sync_engine.dialect.name == "postgresql"
    signal = OutboxSignal() if on_postgres else outbox_signal
    relay = Relay(sync_engine, recording, poll_interval=30.0, signal=signal)  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: relay.passes >= 1, what="the relay's first pass")
        await record_customer(database, "Prompt")
        wait_until(lambda: len(recording.sent) == 1, timeout=5, what="the event to be published")
    finally:
        stop.set()
        # Wake it so that it sees `stop` now rather than at the end of its long poll.
        await record_customer(database, "Stop")
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_published_events_are_pruned_after_the_retention(
    sync_engine: Engine, broker: dramatiq.Broker, database_url: str
) -> None:
    with Session(sync_engine) as session, session.begin():
        session.add_all(
            [
                OutboxEvent(
                    event_id=f"00000000-0000-0000-0000-00000000000{i}",
                    type="x.y",
                    version=1,
                    aggregate_type="x",
                    aggregate_id="1",
                    occurred_at=utcnow(),
                    payload={},
                    published_at=published,
                )
                for i, published in enumerate([utcnow() - timedelta(days=30), utcnow(), None])
            ]
        )
    assert Relay(sync_engine, broker, retention=timedelta(days=7)).prune() == 1
    assert count(sync_engine, OutboxEvent) == 2


HOUR = timedelta(hours=1)
T0 = datetime(2026, 11, 29, 10, 7, tzinfo=UTC)


def test_periodic_slots_are_aligned_so_every_process_agrees() -> None:
    (hourly,) = safety_check_schedule(3600)
    assert hourly.slot(T0) == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert hourly.slot(T0 + timedelta(minutes=52, seconds=59)) == hourly.slot(T0)
    assert hourly.slot(T0 + timedelta(minutes=53)) == datetime(2026, 11, 29, 11, tzinfo=UTC)
    assert Periodic(timedelta(minutes=15), hourly.make).slot(T0) == T0.replace(minute=0)
    assert safety_check_schedule(0) == ()  # turned off


def test_schedulers_stage_each_slot_of_a_periodic_event_once(
    sync_engine: Engine, database_url: str
) -> None:
    # Three relays (or one restarted twice) see the same slot: one event in the outbox.
    schedulers = [Scheduler(sync_engine, safety_check_schedule(3600)) for _ in range(3)]
    assert [s.stage_due(T0) for s in schedulers] == [1, 0, 0]
    assert schedulers[0].stage_due(T0 + timedelta(minutes=30)) == 0  # same slot: no write
    assert [s.stage_due(T0 + HOUR) for s in schedulers] == [1, 0, 0]

    rows = outbox_rows(sync_engine)
    assert [(r.type, r.payload["slot_start"]) for r in rows] == [
        ("invoice_sync.safety_check_due", "2026-11-29T10:00:00+00:00"),
        ("invoice_sync.safety_check_due", "2026-11-29T11:00:00+00:00"),
    ]
    assert len({r.event_id for r in rows}) == 2


def test_a_running_relay_stages_and_publishes_the_safety_check(
    sync_engine: Engine, broker: dramatiq.Broker, database_url: str
) -> None:
    recording = RecordingBroker(broker)
    relay = Relay(sync_engine, recording, schedules=safety_check_schedule(3600))  # type: ignore[arg-type]
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: len(recording.sent) == 1, timeout=10, what="the safety check")
    finally:
        stop.set()
        relay.wake()
        thread.join(timeout=10)
    (row,) = outbox_rows(sync_engine)
    assert row.type == "invoice_sync.safety_check_due" and row.published_at is not None
    assert recording.sent == [row.event_id]
