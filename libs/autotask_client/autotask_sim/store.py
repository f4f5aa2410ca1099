"""Persistent state: one sqlite3 file, one JSON document per record.

Records are kept as the API shows them (camelCase wire names), so reads are a straight
load. The simulator's data sets are small, so queries filter in Python.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    entity TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE TABLE IF NOT EXISTS sequences (entity TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

Record = dict[str, Any]


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA foreign_keys=OFF"
        )
        self._db.executescript(SCHEMA)
        # RLock: a rule may read inside the write transaction that called it.
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together or not at all."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    # -- records -------------------------------------------------------------------------

    def next_id(self, entity: str, start: int) -> int:
        with self.transaction():
            row = self._db.execute(
                "SELECT next_id FROM sequences WHERE entity = ?", (entity,)
            ).fetchone()
            new_id = int(row[0]) if row else start
            self._db.execute(
                "INSERT INTO sequences(entity, next_id) VALUES (?, ?) "
                "ON CONFLICT(entity) DO UPDATE SET next_id = excluded.next_id",
                (entity, new_id + 1),
            )
            return new_id

    def set_next_id(self, entity: str, next_id: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO sequences(entity, next_id) VALUES (?, ?) "
                "ON CONFLICT(entity) DO UPDATE SET next_id = excluded.next_id",
                (entity, next_id),
            )

    def put(self, entity: str, record: Record) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO records(entity, id, data) VALUES (?, ?, ?) "
                "ON CONFLICT(entity, id) DO UPDATE SET data = excluded.data",
                (entity, int(record["id"]), json.dumps(record)),
            )

    def get(self, entity: str, id: int) -> Record | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM records WHERE entity = ? AND id = ?", (entity, int(id))
            ).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, entity: str, id: int) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM records WHERE entity = ? AND id = ?", (entity, int(id))
            )
            return cur.rowcount > 0

    def all(self, entity: str) -> list[Record]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM records WHERE entity = ? ORDER BY id", (entity,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def wipe(self) -> None:
        with self.transaction():
            for table in ("records", "sequences", "meta"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names

    # -- meta ----------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
