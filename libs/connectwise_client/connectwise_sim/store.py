"""In-memory state: one dict of records per collection, as the API shows them.

Records are kept in wire form (camelCase, references as ``{"id", "name"}``), so reads are a
copy. A lock serialises writes; callers get copies and change nothing until they ``put``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Record = dict[str, Any]


class Store:
    def __init__(self) -> None:
        self._records: dict[str, dict[int, Record]] = {}
        self._next: dict[str, int] = {}
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[Store]:
        with self._lock:
            yield self

    def wipe(self) -> None:
        with self._lock:
            self._records.clear()
            self._next.clear()

    def new_id(self, entity: str, start: int = 1) -> int:
        with self._lock:
            value = max(self._next.get(entity, start), start)
            self._next[entity] = value + 1
            return value

    def put(self, entity: str, record: Record) -> Record:
        with self._lock:
            rid = int(record["id"])
            self._records.setdefault(entity, {})[rid] = copy.deepcopy(record)
            if rid >= self._next.get(entity, 1):
                self._next[entity] = rid + 1
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
            return self._records.get(entity, {}).pop(int(id), None) is not None
