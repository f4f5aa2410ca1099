"""The simulator's state: one dict of records per collection, as the API shows them, kept in
memory and, given a path, in a sqlite3 file as well, so that a restarted simulator finds
what was written before (as a real PSA would).

Records are kept in wire form (camelCase, references as ``{"id", "name"}``), so reads are a
copy. A lock serialises writes; callers get copies and change nothing until they ``put``.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS records"
    " (entity TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (entity, id))",
    "CREATE TABLE IF NOT EXISTS counters (entity TEXT PRIMARY KEY, next INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        self._records: dict[str, dict[int, Record]] = {}
        self._next: dict[str, int] = {}
        self._meta: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._load(self._db)

    def _load(self, db: sqlite3.Connection) -> None:
        for entity, rid, body in db.execute("SELECT entity, id, body FROM records"):
            self._records.setdefault(entity, {})[int(rid)] = json.loads(body)
        self._next = {e: int(n) for e, n in db.execute("SELECT entity, next FROM counters")}
        self._meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}

    def _write(self, sql: str, *params: object) -> None:
        if self._db is not None:
            self._db.execute(sql, params)

    @property
    def empty(self) -> bool:
        """Nothing stored yet: a new company (to be seeded), not a restarted one."""
        with self._lock:
            return not any(self._records.values()) and not self._next

    @contextmanager
    def locked(self) -> Iterator[Store]:
        with self._lock:
            yield self

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def wipe(self) -> None:
        with self._lock:
            self._records.clear()
            self._next.clear()
            self._meta.clear()
            for table in ("records", "counters", "meta"):
                self._write(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def new_id(self, entity: str, start: int = 1) -> int:
        with self._lock:
            value = max(self._next.get(entity, start), start)
            self._set_next(entity, value + 1)
            return value

    def _set_next(self, entity: str, value: int) -> None:
        self._next[entity] = value
        self._write(
            "INSERT INTO counters (entity, next) VALUES (?, ?)"
            " ON CONFLICT (entity) DO UPDATE SET next = excluded.next",
            entity,
            value,
        )

    def put(self, entity: str, record: Record) -> Record:
        with self._lock:
            rid = int(record["id"])
            self._records.setdefault(entity, {})[rid] = copy.deepcopy(record)
            self._write(
                "INSERT INTO records (entity, id, body) VALUES (?, ?, ?)"
                " ON CONFLICT (entity, id) DO UPDATE SET body = excluded.body",
                entity,
                rid,
                json.dumps(record),
            )
            if rid >= self._next.get(entity, 1):
                self._set_next(entity, rid + 1)
            return copy.deepcopy(record)

    def get(self, entity: str, id: int) -> Record | None:
        with self._lock:
            found = self._records.get(entity, {}).get(int(id))
            return copy.deepcopy(found) if found is not None else None

    def all(self, entity: str) -> list[Record]:
        with self._lock:
            return [copy.deepcopy(r) for r in self._records.get(entity, {}).values()]

    def delete(self, entity: str, id: int) -> bool:
        with self._lock:
            self._write("DELETE FROM records WHERE entity = ? AND id = ?", entity, int(id))
            return self._records.get(entity, {}).pop(int(id), None) is not None

    def meta(self, key: str, default: Any = None) -> Any:
        """State that is not a record (JSON), e.g. how far agreements were invoiced."""
        with self._lock:
            return copy.deepcopy(self._meta.get(key, default))

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._meta[key] = copy.deepcopy(value)
            self._write(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                key,
                json.dumps(value),
            )
