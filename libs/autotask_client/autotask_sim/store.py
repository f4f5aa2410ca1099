"""Persistent state: one sqlite3 file, one JSON document per record.

Records are kept as the API shows them (camelCase wire names), so reads are a straight
load. The file is the truth; each entity's records are also held in memory once first read
(`_Entity`: by id, and by the value of any field asked for with `where`, such as
`contractID`), so that finding a contract's services costs as many records as it has, not
as many as the database holds (`bench/sync.py` runs 10,000 contract services). Every write
goes to both; a rolled back transaction drops what it touched from memory, to be read again
from the file. Callers get copies: changing a record changes nothing until it is `put`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
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


def index_key(value: Any) -> Any:
    """How `where` and the query filters' ``eq``/``in`` compare values: numbers (and
    numeric strings) as floats, other text case-insensitively."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return text.lower()


class _Entity:
    """One entity's records in memory: JSON text (copies are parsed from it) and the parsed
    record (read only here), by id; and indexes by field, built on first use."""

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.text: dict[int, str] = {}
        self.parsed: dict[int, Record] = {}
        self.indexes: dict[str, dict[Any, set[int]]] = {}
        for record_id, data in rows:
            self.text[record_id] = data
            self.parsed[record_id] = json.loads(data)

    def index(self, field: str) -> dict[Any, set[int]]:
        found = self.indexes.get(field)
        if found is None:
            found = self.indexes[field] = {}
            for record_id, record in self.parsed.items():
                found.setdefault(index_key(record.get(field)), set()).add(record_id)
        return found

    def put(self, record_id: int, data: str, record: Record) -> None:
        self.remove(record_id)
        self.text[record_id] = data
        self.parsed[record_id] = record
        for field, index in self.indexes.items():
            index.setdefault(index_key(record.get(field)), set()).add(record_id)

    def remove(self, record_id: int) -> None:
        old = self.parsed.pop(record_id, None)
        self.text.pop(record_id, None)
        if old is None:
            return
        for field, index in self.indexes.items():
            ids = index.get(index_key(old.get(field)))
            if ids is not None:
                ids.discard(record_id)


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
        self._entities: dict[str, _Entity] = {}
        self._touched: set[str] = set()  # entities written in the open transaction

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
                    for entity in self._touched:
                        self._entities.pop(entity, None)
                    self._touched.clear()
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")
                self._touched.clear()

    def _entity(self, entity: str) -> _Entity:
        loaded = self._entities.get(entity)
        if loaded is None:
            rows = self._db.execute(
                "SELECT id, data FROM records WHERE entity = ?", (entity,)
            ).fetchall()
            loaded = self._entities[entity] = _Entity([(int(i), str(d)) for i, d in rows])
        return loaded

    def _written(self, entity: str) -> _Entity:
        if self._depth:
            self._touched.add(entity)
        return self._entity(entity)

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
        data = json.dumps(record)
        with self._lock:
            loaded = self._written(entity)
            self._db.execute(
                "INSERT INTO records(entity, id, data) VALUES (?, ?, ?) "
                "ON CONFLICT(entity, id) DO UPDATE SET data = excluded.data",
                (entity, int(record["id"]), data),
            )
            loaded.put(int(record["id"]), data, json.loads(data))

    def get(self, entity: str, id: int) -> Record | None:
        with self._lock:
            data = self._entity(entity).text.get(int(id))
        return json.loads(data) if data is not None else None

    def delete(self, entity: str, id: int) -> bool:
        with self._lock:
            loaded = self._written(entity)
            cur = self._db.execute(
                "DELETE FROM records WHERE entity = ? AND id = ?", (entity, int(id))
            )
            loaded.remove(int(id))
            return cur.rowcount > 0

    def all(self, entity: str) -> list[Record]:
        with self._lock:
            text = self._entity(entity).text
            rows = [text[i] for i in sorted(text)]
        return [json.loads(r) for r in rows]

    def where(self, entity: str, field: str, values: Iterable[Any]) -> list[Record]:
        """The records whose `field` equals one of `values` (as `index_key` compares),
        by id: copies, as `all` gives."""
        with self._lock:
            loaded = self._entity(entity)
            index = loaded.index(field)
            ids: set[int] = set()
            for value in values:
                ids |= index.get(index_key(value), set())
            rows = [loaded.text[i] for i in sorted(ids)]
        return [json.loads(r) for r in rows]

    def wipe(self) -> None:
        with self.transaction():
            for table in ("records", "sequences", "meta"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            self._entities.clear()

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
