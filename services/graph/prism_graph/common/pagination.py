"""Cursor connections whose paging is done by the database (keyset pagination).

A cursor is an opaque, URL-safe encoding of the sort key of a row (its sort column values
and id). `first`/`after` page forward and `last`/`before` backward; each page is one SQL
statement with `LIMIT n + 1` to learn whether another page follows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Select, and_, func, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

from prism_graph.common.errors import BadRequest

T = TypeVar("T")
C = TypeVar("C")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SortKey:
    """Columns a connection is ordered by; the last one must be unique (the id)."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, col.key) for col in self.columns]


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool

    def page_info(self) -> Any:
        from strawberry import relay

        return relay.PageInfo(
            has_next_page=self.has_next_page,
            has_previous_page=self.has_previous_page,
            start_cursor=self.cursors[0] if self.cursors else None,
            end_cursor=self.cursors[-1] if self.cursors else None,
        )


def connection(
    connection_type: Callable[..., C],
    page: Page[T],
    to_node: Callable[[T], Any],
    *,
    edge_type: Callable[..., Any] | None = None,
    **fields: Any,
) -> C:
    """The `connection_type` of `page`: an edge (a `relay.Edge` unless `edge_type` is given)
    of `to_node(row)` and its cursor for each row, the page info, and any further `fields`."""
    from strawberry import relay

    edge = edge_type or relay.Edge
    return connection_type(
        edges=[
            edge(node=to_node(row), cursor=cursor)
            for row, cursor in zip(page.items, page.cursors, strict=True)
        ],
        page_info=page.page_info(),
        **fields,
    )


async def count_all(scalar: Callable[[Select[Any]], Awaitable[Any]], filtered: Select[Any]) -> int:
    """A connection's `totalCount`: the rows `filtered` matches on all pages, in one COUNT."""
    count = await scalar(
        filtered.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    )
    return int(count or 0)


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _python_type(col: InstrumentedAttribute[Any]) -> type:
    column_type: Any = col.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type.python_type  # type: ignore[no-any-return]


def _decode(cursor: str, key: SortKey) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(key.columns):
            raise ValueError("wrong arity")
        decoded: list[Any] = []
        for col, value in zip(key.columns, values, strict=True):
            python_type = _python_type(col)
            if python_type is datetime:
                decoded.append(datetime.fromisoformat(value))
            elif python_type is int and not isinstance(value, int):
                raise ValueError("bad int")
            else:
                decoded.append(value)
        return decoded
    except (
        ValueError,
        TypeError,
        binascii.Error,
        json.JSONDecodeError,
        NotImplementedError,
    ) as exc:
        raise BadRequest("The cursor is not valid for this list; start again without it.") from exc


def _after(key: SortKey, values: list[Any], forward: bool) -> ColumnElement[bool]:
    """Rows strictly beyond `values` in the direction of travel (expanded row comparison)."""
    ascending = forward != key.descending
    clauses = []
    for i, col in enumerate(key.columns):
        equal_prefix = [key.columns[j] == values[j] for j in range(i)]
        beyond = col > values[i] if ascending else col < values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def check_page_args(first: int | None, last: int | None, max_size: int = MAX_PAGE_SIZE) -> None:
    if first is not None and last is not None:
        raise BadRequest("Pass either `first` or `last`, not both.")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= max_size:
            raise BadRequest(f"`{name}` must be between 0 and {max_size}.", max_page_size=max_size)


async def paginate(
    fetch: Callable[[Select[Any]], Any],
    stmt: Select[Any],
    key: SortKey,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    max_size: int = MAX_PAGE_SIZE,
) -> Page[T]:
    check_page_args(first, last, max_size)
    forward = last is None
    size = first if first is not None else (last if last is not None else DEFAULT_PAGE_SIZE)
    cursor = after if forward else before
    if cursor is not None:
        stmt = stmt.where(_after(key, _decode(cursor, key), forward))
    ascending = forward != key.descending
    order = [col.asc() if ascending else col.desc() for col in key.columns]
    rows: list[T] = list(await fetch(stmt.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    return Page(
        items=rows,
        cursors=[_encode(key.values(r)) for r in rows],
        has_next_page=more if forward else before is not None,
        has_previous_page=more if not forward else after is not None,
    )


#: Descriptions of a connection's paging arguments, the same on every list.
PAGE_ARGUMENTS = {
    "first": f"At most this many from the start (or after `after`); {MAX_PAGE_SIZE} at most, "
    f"{DEFAULT_PAGE_SIZE} when neither `first` nor `last` is given.",
    "after": "The `endCursor` of the page before; continue after it.",
    "last": f"At most this many from the end (or before `before`); {MAX_PAGE_SIZE} at most.",
    "before": "The `startCursor` of the page after; continue before it.",
}

# The paging arguments of a list field, described once: `first: First = None`, ...
First = Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENTS["first"])]
After = Annotated[str | None, strawberry.argument(description=PAGE_ARGUMENTS["after"])]
Last = Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENTS["last"])]
Before = Annotated[str | None, strawberry.argument(description=PAGE_ARGUMENTS["before"])]
