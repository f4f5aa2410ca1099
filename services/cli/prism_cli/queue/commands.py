"""The `prism queue` commands over the broker's dead letters and the outbox's failed rows."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, inspect, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from prism_graph.outbox.failures import failed_rows, make_due
from prism_graph.settings import GraphSettings
from prism_platform.broker import make_broker
from prism_platform.db import make_sync_engine
from prism_platform.dead_letters import DeadLetter, DeadLetterStore, RedisDeadLetters
from prism_platform.settings import load_settings
from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent

PAYLOAD_SUMMARY_CHARS = 300
IN_PROCESS_NOTE = (
    "dead letters: not visible from here. Without REDIS_URL the broker is in-process: the "
    "messages it gave up on stay in the memory of the `prism dev` process that ran them and "
    "are gone when it stops. Only the outbox rows the relay could not publish are listed."
)


class UnknownId(LookupError):
    """An id that names nothing, or several events (exit code 2)."""


class Unavailable(Exception):
    """The database or the broker cannot be reached (exit code 1)."""


@dataclass
class QueueContext:
    engine: Engine
    broker: dramatiq.Broker | None  # None: the in-process stub, whose dead letters are elsewhere
    dead_letters: DeadLetterStore | None
    where: str  # where the dead letters are read, for the listing's heading

    @classmethod
    def load(cls, *, namespace: str = "prism") -> QueueContext:
        settings = load_settings(GraphSettings)
        engine = make_sync_engine(settings.database_url)
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        try:
            migrated = inspect(engine).has_table(OutboxEvent.__tablename__)
        except (OperationalError, InterfaceError) as exc:
            engine.dispose()
            raise Unavailable(f"the database {shown} is unreachable: {_first_line(exc)}") from None
        if not migrated:
            engine.dispose()
            raise Unavailable(f"the database {shown} has no outbox: run `prism migrate` first")
        if not settings.redis_url:
            return cls(engine, None, None, "in-process")
        broker = make_broker(settings.redis_url, namespace=namespace)
        assert isinstance(broker, RedisBroker)
        store = RedisDeadLetters(broker)
        redis_shown = make_url(settings.redis_url).render_as_string(hide_password=True)
        return cls(engine, broker, store, f"Redis {redis_shown}, namespace {namespace}")

    def letters(self) -> list[DeadLetter]:
        if self.dead_letters is None:
            return []
        try:
            return self.dead_letters.list()
        except Exception as exc:  # redis' connection errors
            raise Unavailable(f"the broker is unreachable: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self.engine.dispose()
        if self.broker is not None:
            self.broker.close()


@dataclass(frozen=True)
class Found:
    event_id: str
    letters: list[DeadLetter]
    rows: list[OutboxEvent]


def _find(ctx: QueueContext, session: Session, wanted: str) -> Found:
    wanted = wanted.strip().lower()
    if not wanted:
        raise UnknownId("give an event id (see `prism queue list`)")
    letters = [x for x in ctx.letters() if x.message_id.lower().startswith(wanted)]
    rows = [r for r in failed_rows(session) if r.event_id.lower().startswith(wanted)]
    ids = {x.message_id for x in letters} | {r.event_id for r in rows}
    if not ids:
        note = "" if ctx.dead_letters is not None else f"\n{IN_PROCESS_NOTE}"
        raise UnknownId(
            f"no dead-lettered message and no failed outbox row has the id {wanted!r} "
            f"(see `prism queue list`){note}"
        )
    if len(ids) > 1:
        raise UnknownId(f"{wanted!r} is the start of {len(ids)} event ids; give more of it")
    (event_id,) = ids
    return Found(event_id, letters, rows)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "not recorded"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _short(text: str | None, width: int = 60) -> str:
    if not text:
        return "-"
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(headers: Sequence[str], rows: list[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *rows]
    ]
    return "\n".join("  " + line for line in lines)


def cmd_list(ctx: QueueContext, _: argparse.Namespace) -> int:
    with Session(ctx.engine) as session:
        rows = failed_rows(session)
    if ctx.dead_letters is None:
        print(IN_PROCESS_NOTE)
    else:
        letters = ctx.letters()
        print(f"Dead-lettered messages ({ctx.where}): {len(letters)}")
        if letters:
            print(
                _table(
                    ("EVENT ID", "ACTOR", "RETRIES", "DEAD SINCE", "LAST ERROR"),
                    [
                        (x.message_id, x.actor, str(x.retries), _time(x.dead_at), _short(x.error))
                        for x in letters
                    ],
                )
            )
    print(f"Outbox rows the relay could not publish: {len(rows)}")
    if rows:
        print(
            _table(
                ("EVENT ID", "TYPE", "ATTEMPTS", "NEXT TRY", "LAST ERROR"),
                [
                    (
                        r.event_id,
                        r.type,
                        str(r.attempts),
                        _time(r.available_at),
                        _short(r.last_error),
                    )
                    for r in rows
                ],
            )
        )
    return 0


def _payload_summary(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) <= PAYLOAD_SUMMARY_CHARS:
        return text
    return f"{text[:PAYLOAD_SUMMARY_CHARS]}… ({len(text)} characters)"


def _handled(session: Session, event_id: str) -> str:
    row = session.get(ProcessedEvent, event_id)
    if row is None:
        return "no: not in the sync worker's inbox, so a replay handles it"
    return f"yes, {row.outcome} at {_time(row.processed_at)}: a replay changes nothing"


def cmd_show(ctx: QueueContext, args: argparse.Namespace) -> int:
    with Session(ctx.engine) as session:
        found = _find(ctx, session, args.id)
        handled = _handled(session, found.event_id)
        blocks: list[str] = []
        for letter in found.letters:
            envelope = letter.envelope or {}
            fields = [
                ("where", f"dead-lettered on {ctx.where}, queue {letter.queue}"),
                ("actor", letter.actor),
                (
                    "event type",
                    f"{envelope.get('type', '-')} (version {envelope.get('version', '-')})",
                ),
                ("event id", str(envelope.get("event_id", letter.message_id))),
                (
                    "aggregate",
                    f"{envelope.get('aggregate_type', '-')} {envelope.get('aggregate_id', '')}".strip(),
                ),
                ("occurred at", str(envelope.get("occurred_at", "-"))),
                ("enqueued at", _time(letter.enqueued_at)),
                ("dead since", _time(letter.dead_at)),
                ("retries", str(letter.retries)),
                ("handled", handled),
                ("last error", letter.error or "not recorded (refused on its first try)"),
                ("payload", _payload_summary(envelope.get("payload", list(letter.message.args)))),
            ]
            text = _fields(fields)
            if letter.traceback:
                text += "\ntraceback (last recorded):\n" + _indent(letter.traceback.rstrip())
            blocks.append(text)
        for row in found.rows:
            fields = [
                ("where", "outbox row not yet published (the relay keeps trying)"),
                ("event type", f"{row.type} (version {row.version})"),
                ("event id", row.event_id),
                ("aggregate", f"{row.aggregate_type} {row.aggregate_id}"),
                ("occurred at", _time(row.occurred_at)),
                ("written at", _time(row.created_at)),
                ("attempts", str(row.attempts)),
                ("next try", _time(row.available_at)),
                ("handled", handled),
                ("last error", row.last_error or "-"),
                ("payload", _payload_summary(row.payload)),
            ]
            blocks.append(_fields(fields))
    print("\n\n".join(blocks))
    return 0


def _fields(fields: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in fields) + 1
    return "\n".join(f"{(name + ':').ljust(width)} {value}" for name, value in fields)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def cmd_replay(ctx: QueueContext, args: argparse.Namespace) -> int:
    with Session(ctx.engine) as session, session.begin():
        if args.all:
            letters, rows = ctx.letters(), failed_rows(session)
        else:
            found = _find(ctx, session, args.id)
            letters, rows = found.letters, found.rows
        for letter in letters:
            assert ctx.dead_letters is not None
            try:
                ctx.dead_letters.replay(letter)
            except Exception as exc:  # redis' connection errors
                raise Unavailable(
                    f"the broker is unreachable: {type(exc).__name__}: {exc}"
                ) from None
            print(f"replayed {letter.message_id} ({letter.actor}) to queue {letter.queue}")
        due = make_due(session, [r.id for r in rows])
        for row in rows:
            print(f"outbox row of {row.event_id} ({row.type}) is due now: the relay publishes it")
    if not letters and not rows:
        print("nothing to replay")
        if ctx.dead_letters is None:
            print(IN_PROCESS_NOTE)
    elif due != len(rows):
        print(f"{len(rows) - due} outbox row(s) were published meanwhile")
    return 0


COMMANDS: dict[str, Callable[[QueueContext, argparse.Namespace], int]] = {
    "list": cmd_list,
    "show": cmd_show,
    "replay": cmd_replay,
}
