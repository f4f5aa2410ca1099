"""The query grammar on the server side: parse a QueryModel, check it, match records.

A filter on a day field (``metadata.DAY_FIELDS``) compares dates: the record's day with the
date the filter's value falls on in the instance's zone, as a written value is taken
(``dates.day_in``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import errors as E
from .dates import day_in, day_of, parse_any
from .metadata import DAY_FIELDS, FieldMeta, fields_of
from .store import Record, index_key

OPS = {
    "eq", "noteq", "gt", "gte", "lt", "lte", "beginswith", "endswith", "contains",
    "exist", "notexist", "in", "notin", "and", "or",
}  # fmt: skip


@dataclass
class ParsedQuery:
    filters: list[dict[str, Any]]
    max_records: int | None
    include_fields: list[str]
    day_fields: frozenset[str] = frozenset()  # lower-case names


def _ci(body: dict[str, Any], key: str) -> Any:
    for k, v in body.items():
        if k.lower() == key:
            return v
    return None


def parse(body: Any, entity: str, *, max_or: int, max_udf: int = 1) -> ParsedQuery:
    if not isinstance(body, dict):
        raise E.failure(E.FILTER_REQUIRED)
    filters = _ci(body, "filter")
    if not isinstance(filters, list) or not filters:
        raise E.failure(E.FILTER_REQUIRED)
    max_records = _ci(body, "maxrecords")
    if max_records is not None and (
        not isinstance(max_records, int)
        or isinstance(max_records, bool)
        or not 1 <= max_records <= 500
    ):
        raise E.failure(E.MAX_RECORDS_RANGE)
    metas = {f.name.lower(): f for f in fields_of(entity)}
    include = _ci(body, "includefields") or []
    canonical_include = []
    for name in include:
        meta = metas.get(str(name).lower())
        if meta is None:
            if str(name).lower() == "userdefinedfields":
                canonical_include.append("userDefinedFields")
                continue
            raise E.failure(E.UNKNOWN_FIELD.format(field=name))
        canonical_include.append(meta.name)
    counts = {"or": 0, "udf": 0}
    for f in filters:
        _check(f, metas, counts)
    if counts["or"] > max_or:
        raise E.failure(E.TOO_MANY_OR.format(n=max_or))
    if counts["udf"] > max_udf:
        raise E.failure(E.ONE_UDF)
    days = frozenset(name.lower() for e, name in DAY_FIELDS if e == entity)
    return ParsedQuery(filters, max_records, canonical_include, days)


def _check(f: Any, metas: dict[str, FieldMeta], counts: dict[str, int]) -> None:
    if not isinstance(f, dict):
        raise E.failure(E.UNKNOWN_OP.format(op=f))
    op = str(_ci(f, "op") or "").lower()
    if op not in OPS:
        raise E.failure(E.UNKNOWN_OP.format(op=_ci(f, "op")))
    if op in ("and", "or"):
        items = _ci(f, "items") or []
        if op == "or":
            counts["or"] += len(items)
        for item in items:
            _check(item, metas, counts)
        return
    field = str(_ci(f, "field") or "")
    value = _ci(f, "value")
    if _ci(f, "udf") is True:
        counts["udf"] += 1
    else:
        meta = metas.get(field.lower())
        if meta is None:
            raise E.failure(E.UNKNOWN_FIELD.format(field=field))
        needs_bool = meta.data_type == "boolean" and op not in ("exist", "notexist")
        if needs_bool and not isinstance(value, bool):
            raise E.failure(E.BAD_BOOLEAN.format(field=meta.name))
    if op in ("in", "notin"):
        if not isinstance(value, list):
            raise E.failure(E.BAD_VALUE.format(field=field, type="an array"))
        counts["or"] += len(value)


def _field_value(record: Record, f: dict[str, Any]) -> Any:
    field = str(_ci(f, "field") or "")
    if _ci(f, "udf") is True:
        for udf in record.get("userDefinedFields") or []:
            if str(udf.get("name", "")).lower() == field.lower():
                return udf.get("value")
        return None
    for k, v in record.items():
        if k.lower() == field.lower():
            return v
    return None


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, bool) or isinstance(right, bool):
        return left, right
    if isinstance(left, int | float) and not isinstance(right, bool):
        try:
            return float(left), float(right)
        except (TypeError, ValueError):
            return str(left), str(right)
    if isinstance(left, str) and isinstance(right, str):
        as_dates = _dates(left, right)
        if as_dates is not None:
            return as_dates
        # SQL Server's default collation compares case-insensitively.
        return left.lower(), right.lower()
    if isinstance(left, str) and isinstance(right, int | float):
        try:
            return float(left), float(right)
        except ValueError:
            return left, str(right)
    return left, right


def _dates(left: str, right: str) -> tuple[datetime, datetime] | None:
    if len(left) < 10 or len(right) < 10 or left[4:5] != "-" or right[4:5] != "-":
        return None
    try:
        return parse_any(left), parse_any(right)
    except ValueError:
        return None


def matches(record: Record, f: dict[str, Any]) -> bool:
    op = str(_ci(f, "op")).lower()
    if op == "and":
        return all(matches(record, i) for i in _ci(f, "items") or [])
    if op == "or":
        return any(matches(record, i) for i in _ci(f, "items") or [])
    actual = _field_value(record, f)
    if op == "exist":
        return actual not in (None, "")
    if op == "notexist":
        return actual in (None, "")
    value = _ci(f, "value")
    if op in ("in", "notin"):
        found = any(_eq(actual, v) for v in value or [])
        return found if op == "in" else not found
    if actual is None:
        return op == "noteq"
    if op in ("beginswith", "endswith", "contains"):
        a, v = str(actual).lower(), str(value).lower()
        return (
            a.startswith(v) if op == "beginswith" else a.endswith(v) if op == "endswith" else v in a
        )
    if op == "eq":
        return _eq(actual, value)
    if op == "noteq":
        return not _eq(actual, value)
    a, v = _comparable(actual, value)
    try:
        if op == "gt":
            return bool(a > v)
        if op == "gte":
            return bool(a >= v)
        if op == "lt":
            return bool(a < v)
        return bool(a <= v)
    except TypeError:
        return False


def _eq(actual: Any, value: Any) -> bool:
    if actual is None or value is None:
        return actual is value
    a, v = _comparable(actual, value)
    return bool(a == v)


_key = index_key


_DAY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "noteq": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _day_matcher(f: dict[str, Any], zone: str) -> Any:
    compare = _DAY_OPS[str(_ci(f, "op")).lower()]
    wanted = day_in(str(_ci(f, "value")), zone)

    def check(record: Record) -> bool:
        actual = _field_value(record, f)
        if actual in (None, ""):
            return str(_ci(f, "op")).lower() == "noteq"
        return bool(compare(day_of(str(actual)), wanted))

    return check


def _compiled(f: dict[str, Any], days: frozenset[str] = frozenset(), zone: str = "UTC") -> Any:
    """A matcher for one filter; ``in`` lists become sets so long lists stay cheap."""
    op = str(_ci(f, "op")).lower()
    if op in ("and", "or"):
        parts = [_compiled(i, days, zone) for i in _ci(f, "items") or []]
        if op == "and":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if op in ("in", "notin"):
        keys = {_key(v) for v in _ci(f, "value") or []}
        wanted = op == "in"
        return lambda r: (_key(_field_value(r, f)) in keys) == wanted
    field = str(_ci(f, "field") or "").lower()
    if op in _DAY_OPS and field in days and _ci(f, "udf") is not True:
        value = _ci(f, "value")
        if isinstance(value, str) and _dates(value, value) is not None:
            return _day_matcher(f, zone)
    return lambda r: matches(r, f)


def narrowing(parsed: ParsedQuery, entity: str) -> tuple[str, list[Any]] | None:
    """A field and values that every match has one of, for `Store.where` to find the
    candidates by: a top-level ``eq`` on a number or ``in`` (the filters are AND-ed, and
    both compare as `index_key` does), on a field of the entity that is not a day field nor
    a UDF. None when no filter narrows: every record is a candidate. `select` still checks
    every filter on the candidates."""
    metas = {f.name.lower(): f for f in fields_of(entity)}
    for f in parsed.filters:
        op = str(_ci(f, "op")).lower()
        field = str(_ci(f, "field") or "").lower()
        meta = metas.get(field)
        if meta is None or _ci(f, "udf") is True or field in parsed.day_fields:
            continue
        value = _ci(f, "value")
        if op == "eq" and isinstance(value, int | float) and not isinstance(value, bool):
            return meta.name, [value]
        if op == "in" and isinstance(value, list):
            return meta.name, value
    return None


def select(records: list[Record], parsed: ParsedQuery, *, time_zone: str = "UTC") -> list[Record]:
    """The records every filter matches; day fields compare as dates in `time_zone`."""
    checks = [_compiled(f, parsed.day_fields, time_zone) for f in parsed.filters]
    return [r for r in records if all(check(r) for check in checks)]


def project(record: Record, include: list[str]) -> Record:
    if not include:
        return record
    return {k: record.get(k) for k in include}
