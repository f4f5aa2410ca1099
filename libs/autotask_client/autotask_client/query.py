"""The query grammar: filters, the query body, and splitting over-long ``in`` lists.

Wire shape (AUTOTASK.md §3): ``{"MaxRecords": n, "IncludeFields": [...], "Filter": [...]}``,
each filter ``{"op", "field", "value", "udf"}`` or a group ``{"op": "and"|"or", "items": [...]}``.
Top-level filters are ANDed.

A ``date`` (not a ``datetime``) in a comparison means a calendar day, for the fields that
hold one (a contract's or unit row's ``startDate``/``endDate``). How Autotask compares a
filter value with a day field is UNCONFIRMED, so each comparison is sent against the midday
(UTC) of a day (``_day_filter``): a day field holding D, at midnight (as Autotask returns
them) or at midday (as Prism writes them), lies after the midday of D-1 and not after the
midday of D. ``gte``/``lte``/``lt``/``gt``/``eq`` D then select the same rows whether the
server compares UTC instants, UTC dates, or dates in an instance zone from UTC-11 to UTC+11;
midnight UTC would be the day before in every zone west of UTC. Compare instant fields
(``createDate``) with a ``datetime``: it is sent as given.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

from .dates import format_datetime, format_day

#: The API's page size cap and default.
MAX_RECORDS = 500
#: Values per ``in``/``notIn`` list. The REST limit is undocumented; the SOAP API allowed
#: 500 OR conditions per query and an ``in`` list is evaluated as ORs (AUTOTASK.md §3).
MAX_IN_VALUES = 500

Scalar: TypeAlias = int | str | bool | float | Decimal | date | datetime
Value: TypeAlias = Scalar | Sequence[int] | Sequence[str]


def _wire(value: Any) -> Any:
    # Booleans must stay literal true/false; the API rejects anything else for them.
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, datetime | date):
        return format_datetime(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


@dataclass(frozen=True)
class Condition:
    op: str
    field: str
    value: Any = None
    udf: bool = False

    def to_wire(self) -> dict[str, Any]:
        as_days = _day_filter(self)
        if as_days is not None:
            return as_days.to_wire()
        out: dict[str, Any] = {"op": self.op, "field": self.field}
        if self.op not in ("exist", "notExist"):
            out["value"] = _wire(self.value)
        if self.udf:
            out["udf"] = True
        return out


@dataclass(frozen=True)
class Group:
    op: str  # "and" | "or"
    items: tuple[Filter, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"op": self.op, "items": [i.to_wire() for i in self.items]}


Filter: TypeAlias = Condition | Group


def _day_filter(c: Condition) -> Filter | None:
    """A comparison with a calendar date as comparisons with middays: ``x >= D`` is
    ``x > midday(D-1)``, ``x < D`` is ``x <= midday(D-1)``, ``x = D`` is both bounds of D."""
    day = c.value
    if c.udf or not isinstance(day, date) or isinstance(day, datetime):
        return None
    eve, noon = format_day(day - timedelta(days=1)), format_day(day)
    field = c.field
    match c.op:
        case "lte":
            return Condition("lte", field, noon)
        case "gt":
            return Condition("gt", field, noon)
        case "gte":
            return Condition("gt", field, eve)
        case "lt":
            return Condition("lte", field, eve)
        case "eq":
            return Group("and", (Condition("gt", field, eve), Condition("lte", field, noon)))
        case "noteq":
            return Group("or", (Condition("lte", field, eve), Condition("gt", field, noon)))
    return None


def eq(field: str, value: Scalar, *, udf: bool = False) -> Condition:
    return Condition("eq", field, value, udf)


def noteq(field: str, value: Scalar, *, udf: bool = False) -> Condition:
    return Condition("noteq", field, value, udf)


def gt(field: str, value: Scalar, *, udf: bool = False) -> Condition:
    return Condition("gt", field, value, udf)


def gte(field: str, value: Scalar, *, udf: bool = False) -> Condition:
    return Condition("gte", field, value, udf)


def lt(field: str, value: Scalar, *, udf: bool = False) -> Condition:
    return Condition("lt", field, value, udf)


def lte(field: str, value: Scalar, *, udf: bool = False) -> Condition:
    return Condition("lte", field, value, udf)


def begins_with(field: str, value: str, *, udf: bool = False) -> Condition:
    return Condition("beginsWith", field, value, udf)


def ends_with(field: str, value: str, *, udf: bool = False) -> Condition:
    return Condition("endsWith", field, value, udf)


def contains(field: str, value: str, *, udf: bool = False) -> Condition:
    return Condition("contains", field, value, udf)


def exist(field: str, *, udf: bool = False) -> Condition:
    return Condition("exist", field, None, udf)


def not_exist(field: str, *, udf: bool = False) -> Condition:
    return Condition("notExist", field, None, udf)


def in_(field: str, values: Iterable[int | str], *, udf: bool = False) -> Condition:
    return Condition("in", field, tuple(values), udf)


def not_in(field: str, values: Iterable[int | str], *, udf: bool = False) -> Condition:
    return Condition("notIn", field, tuple(values), udf)


def and_(*items: Filter) -> Group:
    return Group("and", tuple(items))


def or_(*items: Filter) -> Group:
    return Group("or", tuple(items))


#: "Everything": the API requires a filter, so match every id.
ALL = gte("id", 0)


@dataclass(frozen=True)
class Query:
    filters: tuple[Filter, ...] = (ALL,)
    max_records: int | None = None
    include_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_records is not None and not 1 <= self.max_records <= MAX_RECORDS:
            raise ValueError(f"max_records must be between 1 and {MAX_RECORDS}")
        if not self.filters:
            raise ValueError("the API needs at least one filter; use query.ALL")

    def where(self, *filters: Filter) -> Query:
        return replace(self, filters=(*self.filters, *filters))

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.max_records is not None:
            body["MaxRecords"] = self.max_records
        if self.include_fields:
            fields = list(self.include_fields)
            # Without id a caller cannot page past 500 records or address what it read.
            if not any(f.lower() == "id" for f in fields):
                fields.insert(0, "id")
            body["IncludeFields"] = fields
        body["Filter"] = [f.to_wire() for f in self.filters]
        return body


def query(*filters: Filter, max_records: int | None = None, include: Iterable[str] = ()) -> Query:
    """Build a :class:`Query`; with no filters it matches every record."""
    return Query(
        filters=tuple(filters) or (ALL,), max_records=max_records, include_fields=tuple(include)
    )


def _oversized(f: Filter, limit: int) -> bool:
    return isinstance(f, Condition) and f.op in ("in", "notIn") and len(f.value) > limit


def split_in_lists(q: Query, limit: int = MAX_IN_VALUES) -> Iterator[Query]:
    """Queries that together ask what ``q`` asks, none with an ``in`` list over ``limit``.

    Only top-level ``in`` conditions are split (a split ``in`` is a union, which ANDed
    siblings preserve). A ``notIn`` is an intersection, so its chunks stay in one query as
    separate top-level conditions. Nested oversized lists are left for the API to refuse.
    """
    fixed: list[Filter] = []
    choices: list[list[Condition]] = []
    for f in q.filters:
        if not _oversized(f, limit):
            fixed.append(f)
            continue
        assert isinstance(f, Condition)
        chunks = [
            replace(f, value=tuple(f.value[i : i + limit])) for i in range(0, len(f.value), limit)
        ]
        if f.op == "notIn":
            fixed.extend(chunks)
        else:
            choices.append(chunks)
    if not choices:
        yield replace(q, filters=tuple(fixed))
        return
    for combo in itertools.product(*choices):
        yield replace(q, filters=(*fixed, *combo))
