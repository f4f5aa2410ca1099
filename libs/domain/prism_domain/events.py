"""Domain events and their versioned envelope (STYLE habit 2).

An event is named `<aggregate>.<past-tense verb>`, carries `event_id`, `occurred_at` and
`aggregate_id`, and leaves a service only through the transactional outbox, wrapped in an
`Envelope` made of JSON primitives.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

JsonDict = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every event an aggregate records."""

    type: ClassVar[str]
    version: ClassVar[int] = 1
    aggregate_type: ClassVar[str]

    aggregate_id: str
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=utcnow)

    def payload(self) -> JsonDict:
        """The event's own fields as JSON primitives (override when a field is not one)."""
        skip = {"aggregate_id", "event_id", "occurred_at"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def envelope(self) -> Envelope:
        return Envelope(
            event_id=self.event_id,
            type=self.type,
            version=self.version,
            occurred_at=self.occurred_at,
            aggregate_type=self.aggregate_type,
            aggregate_id=self.aggregate_id,
            payload=self.payload(),
        )


class EnvelopeError(ValueError):
    """A message that is not a valid event envelope: retrying it can never help."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What travels from the outbox through the broker to a consumer."""

    event_id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    payload: JsonDict

    def to_dict(self) -> JsonDict:
        return {
            "event_id": str(self.event_id),
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "payload": self.payload,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Envelope:
        try:
            occurred_at = datetime.fromisoformat(str(raw["occurred_at"]))
            if occurred_at.tzinfo is None:
                raise EnvelopeError("occurred_at must carry a time zone")
            payload = raw["payload"]
            if not isinstance(payload, dict):
                raise EnvelopeError("payload must be an object")
            version = raw["version"]
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise EnvelopeError("version must be a positive integer")
            return cls(
                event_id=uuid.UUID(str(raw["event_id"])),
                type=str(raw["type"]),
                version=version,
                occurred_at=occurred_at,
                aggregate_type=str(raw["aggregate_type"]),
                aggregate_id=str(raw["aggregate_id"]),
                payload=payload,
            )
        except EnvelopeError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise EnvelopeError(f"not an event envelope: {exc!r}") from exc


EVENT_TYPES: dict[str, type[DomainEvent]] = {}


def register(event_class: type[DomainEvent]) -> type[DomainEvent]:
    """Class decorator: every event type is known by name, so consumers can route by it."""
    if event_class.type in EVENT_TYPES:
        raise ValueError(f"duplicate event type {event_class.type!r}")
    EVENT_TYPES[event_class.type] = event_class
    return event_class
