"""Dead-lettered messages: the ones Dramatiq gave up on, listed and replayed (`prism queue`).

A message lands in the dead-letter queue when its actor failed on every retry (or refused it
without retry, `throws=`). Replaying it is safe because the consumers are exactly-once
(`prism_syncer.inbox`): an event that was handled after all is skipped, one that failed is
handled now.

Where the dead letters are:

- **Redis** (`RedisBroker`): the broker's Lua dispatch script moves a message it is told to
  `nack` into two keys per queue, `<namespace>:<queue>.XQ`, a sorted set of the broker's
  message ids scored by when each was dead-lettered (milliseconds), and
  `<namespace>:<queue>.XQ.msgs`, a hash of those ids to the encoded message. The script
  itself drops entries older than the broker's `dead_message_ttl` (7 days) during its
  maintenance. (`<queue>.DQ` is the delay queue of messages waiting for a retry, not the
  dead letters.) A replay enqueues a fresh copy through the broker (a new broker id, on the
  live queue, its retry count reset) and only then removes the dead entry, so a crash in
  between leaves a dead entry whose replay is harmless.
- **The in-process stub** (`StubBroker`, the embedded default): a list in the memory of the
  one process that ran the worker; no other process (such as the `prism` CLI) can see it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import q_name, xq_name

from prism_platform.broker import EVENTS_QUEUE

# Options Dramatiq's broker and Retries middleware keep on a message about its past tries; a
# replay starts afresh without them.
_BOOKKEEPING_OPTIONS = frozenset({"redis_message_id", "eta", "retries", "traceback"})
_BOOKKEEPING_OPTIONS |= {"requeue_timestamp"}


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered message, as the broker keeps it."""

    key: str  # the broker's own id of this copy (Redis: the id in the .XQ set)
    queue: str
    message: dramatiq.Message[Any]
    dead_at: datetime | None  # when it was dead-lettered (Redis keeps it; the stub does not)
    retries: int = 0  # how many times it was retried before Dramatiq gave up

    @property
    def message_id(self) -> str:
        """The message id: for events, the event id (`prism_platform.broker.event_message`)."""
        return self.message.message_id

    @property
    def actor(self) -> str:
        return self.message.actor_name

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The event envelope the message carries, when it carries one."""
        args = self.message.args
        return args[0] if len(args) == 1 and isinstance(args[0], dict) else None

    @property
    def traceback(self) -> str | None:
        """The last error the Retries middleware recorded (none when refused on the first try).

        On Redis it is the error of the try before the last: the broker keeps a dead letter as
        it was last enqueued, and the last try's error only reaches the worker's log."""
        value = self.message.options.get("traceback")
        return str(value) if value else None

    @property
    def error(self) -> str | None:
        """The last line of the recorded traceback: the exception and its message."""
        lines = [line for line in (self.traceback or "").splitlines() if line.strip()]
        return lines[-1].strip() if lines else None

    @property
    def enqueued_at(self) -> datetime:
        return datetime.fromtimestamp(self.message.message_timestamp / 1000, UTC)


class DeadLetterStore(Protocol):
    def list(self) -> list[DeadLetter]: ...

    def replay(self, letter: DeadLetter) -> dramatiq.Message[Any]:
        """Enqueue `letter` afresh on its live queue and remove it from the dead letters."""
        ...


def fresh_copy(letter: DeadLetter) -> dramatiq.Message[Any]:
    """The message to enqueue again: same id, actor and arguments, no retry history."""
    options = {k: v for k, v in letter.message.options.items() if k not in _BOOKKEEPING_OPTIONS}
    return dataclasses.replace(letter.message, queue_name=q_name(letter.queue), options=options)


class RedisDeadLetters:
    """The dead letters of `queues` on a `RedisBroker`, through the keys its Lua script uses."""

    def __init__(self, broker: RedisBroker, queues: tuple[str, ...] = (EVENTS_QUEUE,)) -> None:
        self._broker = broker
        self._client: Any = broker.client
        self._queues = queues

    def _keys(self, queue: str) -> tuple[str, str]:
        dead = f"{self._broker.namespace}:{xq_name(queue)}"
        return dead, f"{dead}.msgs"

    def list(self) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        for queue in self._queues:
            dead, messages = self._keys(queue)
            entries = self._client.zrange(dead, 0, -1, withscores=True)
            if not entries:
                continue
            data = self._client.hmget(messages, [key for key, _ in entries])
            for (key, score), encoded in zip(entries, data, strict=True):
                if encoded is None:  # expired between the two reads
                    continue
                message = dramatiq.Message.decode(encoded)
                letters.append(
                    DeadLetter(
                        key=_text(key),
                        queue=queue,
                        message=message,
                        dead_at=datetime.fromtimestamp(float(score) / 1000, UTC),
                        # As last enqueued: the retries it got (the last one's error is lost).
                        retries=int(message.options.get("retries", 0)),
                    )
                )
        return sorted(
            letters, key=lambda letter: letter.dead_at or datetime.min.replace(tzinfo=UTC)
        )

    def replay(self, letter: DeadLetter) -> dramatiq.Message[Any]:
        enqueued = self._broker.enqueue(fresh_copy(letter))
        dead, messages = self._keys(letter.queue)
        pipe = self._client.pipeline(transaction=True)
        pipe.zrem(dead, letter.key)
        pipe.hdel(messages, letter.key)
        pipe.execute()
        return enqueued


class StubDeadLetters:
    """The dead letters of the in-process stub broker: only in the process that owns it."""

    def __init__(self, broker: StubBroker, queues: tuple[str, ...] = (EVENTS_QUEUE,)) -> None:
        self._broker = broker
        self._queues = queues

    def list(self) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        for queue in self._queues:
            for proxy in self._broker.dead_letters_by_queue[queue]:
                message = proxy._message
                # Updated by the last failure: Retries counted it as one more retry.
                retries = int(message.options.get("retries", 0))
                if "traceback" in message.options:
                    retries = max(0, retries - 1)
                letters.append(
                    DeadLetter(
                        key=str(id(proxy)),
                        queue=queue,
                        message=message,
                        dead_at=None,
                        retries=retries,
                    )
                )
        return letters

    def replay(self, letter: DeadLetter) -> dramatiq.Message[Any]:
        enqueued = self._broker.enqueue(fresh_copy(letter))
        dead = self._broker.dead_letters_by_queue[letter.queue]
        dead[:] = [proxy for proxy in dead if str(id(proxy)) != letter.key]
        return enqueued


def dead_letters_of(broker: dramatiq.Broker) -> DeadLetterStore:
    if isinstance(broker, RedisBroker):
        return RedisDeadLetters(broker)
    if isinstance(broker, StubBroker):
        return StubDeadLetters(broker)
    raise TypeError(f"no dead letters known for {type(broker).__name__}")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
