"""What every domain's DataLoaders share (STYLE habit 5): the per-request base, the kinds
of loader (by id, by a unique key, grouped by a parent: as entities or as plain rows), and
reading a page's children before its fields ask.

Each domain keeps its own loaders next to its types (`prism_graph/<domain>/loaders.py`, the
sync tables' in `prism_graph/sync/loaders.py`); `prism_graph.context.Loaders` puts them
together for a request. Every loader applies the caller's visibility filter (T3), so an id
of another tenant loads as missing, on every path (node, nested edge, mutation input), and
a page of N rows costs one statement per relationship, not N.
"""

from __future__ import annotations

import asyncio
import functools
from collections import namedtuple
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import ColumnProperty
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_graph.database import RequestReader

M = TypeVar("M")
R = TypeVar("R")


class RequestLoaders:
    """The base of every domain's loaders: the request's reader and the caller's scope.

    A domain's loaders are typed `functools.cached_property`s of a subclass, so that each is
    created on first use, fresh for every request: a page uses a few of about 30, and
    building them all cost more than reading its children."""

    def __init__(self, reader: RequestReader, scope: Scope | None) -> None:
        self.reader = reader
        self.scope = scope


@functools.cache
def record_columns(model: type) -> tuple[Any, ...]:
    """The columns a read needs of `model`'s rows: every mapped column but the deferred ones
    (large values loaded only when asked for)."""
    mapper: Any = model.__mapper__  # type: ignore[attr-defined]
    columns = []
    for prop in mapper.column_attrs:
        if isinstance(prop, ColumnProperty) and not prop.deferred:
            column = prop.columns[0]  # the table's column: rows, not entities, come back
            columns.append(column if column.key == prop.key else column.label(prop.key))
    return tuple(columns)


def by_key_loader(
    reader: RequestReader, model: type[M], key: Any, visible: ColumnElement[bool]
) -> DataLoader[int, M | None]:
    """`<Thing>By<UniqueKey>`: the visible row whose unique `key` is each id, or None."""

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = await reader.scalars(select(model).where(key.in_(set(ids)), visible))
        found = {getattr(row, key.key): row for row in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def by_id_loader(
    reader: RequestReader,
    model: type[M],
    visible: Callable[[Scope | None], ColumnElement[bool]],
    scope: Scope | None,
) -> DataLoader[int, M | None]:
    """`<Thing>ById`: the visible row of each id, or None."""
    return by_key_loader(reader, model, model.id, visible(scope))  # type: ignore[attr-defined]


def grouped_loader(
    reader: RequestReader,
    model: type[M],
    key: Any,
    visible: ColumnElement[bool],
    order_by: Sequence[Any],
) -> DataLoader[int, list[M]]:
    """`<Things>By<Parent>`: the visible rows of each parent id, in `order_by`, one statement."""

    async def load(ids: Sequence[int]) -> list[list[M]]:
        rows = await reader.scalars(
            select(model).where(key.in_(set(ids)), visible).order_by(*order_by)
        )
        found: dict[int, list[M]] = {i: [] for i in ids}
        for row in rows:
            found[getattr(row, key.key)].append(row)
        return [found[i] for i in ids]

    return DataLoader(load_fn=load)


# The parent ids of a `GroupedRows` read are an expanding bind parameter, so that one
# statement serves every request of a scope.
_PARENT_IDS = "prism_parent_ids"


@functools.lru_cache(maxsize=256)
def _grouped_statement(
    model: type,
    key: Any,
    visible: Callable[[Scope | None], ColumnElement[bool]],
    scope: Scope | None,
    order_by: tuple[Any, ...],
) -> Select[Any]:
    """The rows of `model` that `scope` may see whose `key` is one of the ids bound as
    `_PARENT_IDS`, in `order_by`.

    Built once per kind of child and scope (bounded, the least recently used dropped first),
    keyed by the scope itself: the filter is a function of the scope alone, so each scope
    has its own statement and none built for one caller runs for another (T3). The reuse
    spares each request building the statement and SQLAlchemy computing its cache key; the
    benchmark shows it pays (docs/performance.md)."""
    ids = bindparam(_PARENT_IDS, expanding=True, type_=key.type)
    return select(*record_columns(model)).where(key.in_(ids), visible(scope)).order_by(*order_by)


@functools.cache
def _record_type(model: type) -> Any:
    """A named tuple of `model`'s record columns (made once per model, not per request)."""
    return namedtuple(model.__name__ + "Row", [c.key for c in record_columns(model)])


class GroupedRows(DataLoader[int, list[Any]]):
    """`<Things>By<Parent>` as plain rows: the rows of each parent id that `scope` may see,
    in `order_by`, one statement.

    Rows, not session entities: the types read a row's columns by name and never change it,
    and a row costs a fraction of an entity to build. They come back as named tuples, whose
    attributes read about ten times faster than SQLAlchemy's rows'. `visible` is the
    scope's filter: a module-level function of the scope alone (`prism_graph.access`), so
    that the statement can be reused. A page reads these before its fields ask
    (`load_together`).
    """

    def __init__(
        self,
        reader: RequestReader,
        model: type,
        key: Any,
        visible: Callable[[Scope | None], ColumnElement[bool]],
        scope: Scope | None,
        order_by: tuple[Any, ...],
    ) -> None:
        super().__init__(load_fn=self._load)
        self.reader = reader
        self.key = key
        self.statement = _grouped_statement(model, key, visible, scope, order_by)
        self.record = _record_type(model)

    async def rows_of(self, ids: Sequence[int]) -> list[Any]:
        """The visible rows whose key is one of `ids`, in `order_by`."""
        rows = await self.reader.core_rows(self.statement, {_PARENT_IDS: list(set(ids))})
        return list(map(self.record._make, rows))

    def group(self, ids: Sequence[int], rows: Iterable[Any]) -> dict[int, list[Any]]:
        found: dict[int, list[Any]] = {i: [] for i in ids}
        for row in rows:
            found[getattr(row, self.key.key)].append(row)
        return found

    async def _load(self, ids: Sequence[int]) -> list[list[Any]]:
        found = self.group(ids, await self.rows_of(ids))
        return [found[i] for i in ids]


async def load_together(
    reader: RequestReader, ids: Sequence[int], loaders: Sequence[GroupedRows]
) -> None:
    """Read the rows of several `GroupedRows` loaders for the same parent ids, one statement
    each, and prime the loaders with them, so that the fields that ask next find them loaded
    (and answer at once: `now_or_later`).

    One statement per loader, whatever the number of ids, so a page costs the same whatever
    its size, though not the fewest: one UNION ALL of the reads made it one statement and
    was faster on small pages, at the price of much machinery (docs/performance.md).
    """
    if not ids:
        return
    for loader in dict.fromkeys(loaders):
        loader.prime_many(loader.group(ids, await loader.rows_of(ids)))


def now_or_later(
    loader: DataLoader[int, R], key: int, convert: Callable[[R], M]
) -> M | Awaitable[M]:
    """What `loader` holds for `key`, converted: at once when it is already loaded (primed by
    `load_together`), else once it is. A field resolver that returns this is synchronous on
    the fast path, which spares the executor a coroutine and a task per object."""
    future = loader.load(key)
    if (
        isinstance(future, asyncio.Future)
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return convert(future.result())
    return _converted(future, convert)


async def _converted(future: Awaitable[R], convert: Callable[[R], M]) -> M:
    return convert(await future)
