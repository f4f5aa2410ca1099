"""Periodic events, staged by the outbox relay (S5: the invoice sync's safety check; N5: the
call for webhook attempts due).

A periodic event is made for a time slot (slots are aligned to the Unix epoch, so every
process agrees on them) and carries an event id derived from the slot. A relay stages the
current slot's event the first time it sees that slot; the outbox's unique event id makes a
second relay's insert a no-op, and the consumer's inbox would drop a copy anyway. So any
number of relays may run, and a relay restarted within a slot stages nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_domain.events import DomainEvent
from prism_domain.sync import InvoiceSyncSafetyCheckDue
from prism_domain.webhooks import WebhookDeliveriesDue
from prism_platform.db import conflict_insert, writer
from prism_tables.outbox import OutboxEvent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Periodic:
    every: timedelta
    make: Callable[[datetime], DomainEvent]

    def slot(self, now: datetime) -> datetime:
        """Start of the slot `now` falls in."""
        return EPOCH + self.every * ((now - EPOCH) // self.every)


def safety_check_schedule(interval_seconds: int) -> tuple[Periodic, ...]:
    """The invoice sync's safety check every `interval_seconds` (0: never)."""
    if interval_seconds <= 0:
        return ()
    return (Periodic(timedelta(seconds=interval_seconds), InvoiceSyncSafetyCheckDue.for_slot),)


def webhook_sweep_schedule(interval_seconds: int) -> tuple[Periodic, ...]:
    """The call for webhook attempts due (retries after their back-off) every
    `interval_seconds` (0: never)."""
    if interval_seconds <= 0:
        return ()
    return (Periodic(timedelta(seconds=interval_seconds), WebhookDeliveriesDue.for_slot),)


def relay_schedules(
    safety_check_interval: int, webhooks_sweep_interval: int
) -> tuple[Periodic, ...]:
    """Every periodic event a relay stages."""
    return safety_check_schedule(safety_check_interval) + webhook_sweep_schedule(
        webhooks_sweep_interval
    )


def stage(engine: Engine, event: DomainEvent) -> bool:
    """Stage `event` in the outbox unless an event with its id is already there."""
    insert = conflict_insert(engine.dialect.name)
    statement = (
        insert(OutboxEvent)
        .values(**OutboxEvent.values_of(event))
        .on_conflict_do_nothing()
        .returning(OutboxEvent.id)
    )
    with Session(writer(engine)) as session, session.begin():
        return session.scalar(statement) is not None


class Scheduler:
    """Remembers the last slot staged per periodic event, so a pass costs nothing in between."""

    def __init__(self, engine: Engine, schedules: tuple[Periodic, ...]) -> None:
        self._engine = engine
        self._schedules = schedules
        self._staged: dict[int, datetime] = {}

    def stage_due(self, now: datetime) -> int:
        """Stage each periodic event whose current slot this scheduler has not staged yet;
        return how many were new to the outbox."""
        new = 0
        for index, periodic in enumerate(self._schedules):
            slot = periodic.slot(now)
            if self._staged.get(index) == slot:
                continue
            new += stage(self._engine, periodic.make(slot))
            self._staged[index] = slot
        return new
