"""The ``conditions`` query language, built rather than concatenated.

ConnectWise filters list endpoints with one ``conditions`` string (docs/connectwise.md §4):
strings in double quotes, numbers and booleans bare, date-times in square brackets, fields of
a reference with a slash (``company/id``), ``and``/``or``/``not`` and parentheses. Building it
here quotes and escapes every value, so a catalogue identifier holding ``"`` or ``\\`` cannot
change the query's meaning.

    >>> (eq("identifier", 'PC "A"') & eq("inactiveFlag", False)).render()
    'identifier = "PC \\\\"A\\\\"" and inactiveFlag = false'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

Value = str | int | float | Decimal | bool | date | datetime | None

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "contains", "like"})


def quote(value: str) -> str:
    """A string literal: double quotes, with ``\\`` and ``"`` escaped by a backslash.

    The escaping rule is the JSON one the Developer Guide gives for bodies; that conditions
    read it the same way is UNCONFIRMED (docs/connectwise.md §4).
    """
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(value: Value) -> str:
    """One value as the conditions language writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime is ambiguous in a condition; give it a timezone")
        return "[" + value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "]"
    if isinstance(value, date):
        return f"[{value.isoformat()}T00:00:00Z]"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"cannot write {type(value).__name__} in a condition")


def _field(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"not a field path: {name!r}")
    return name


@dataclass(frozen=True)
class Condition:
    """A rendered condition; combine with ``&``, ``|`` and ``~``."""

    text: str
    #: Whether ``text`` is a single comparison (needs no parentheses inside and/or).
    atomic: bool = True

    def render(self) -> str:
        return self.text

    def _group(self) -> str:
        return self.text if self.atomic else f"({self.text})"

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"{self._group()} and {other._group()}", atomic=False)

    def __or__(self, other: Condition) -> Condition:
        return Condition(f"{self._group()} or {other._group()}", atomic=False)

    def __invert__(self) -> Condition:
        """``not (...)``: that ConnectWise takes a prefix ``not`` before a group is
        UNCONFIRMED; prefer :func:`not_contains`, :func:`not_like`, :func:`not_in`."""
        return Condition(f"not ({self.text})")

    def __str__(self) -> str:
        return self.text


def compare(field: str, op: str, value: Value) -> Condition:
    if op not in _OPERATORS:
        raise ValueError(f"unknown operator {op!r}")
    return Condition(f"{_field(field)} {op} {literal(value)}")


def eq(field: str, value: Value) -> Condition:
    return compare(field, "=", value)


def ne(field: str, value: Value) -> Condition:
    return compare(field, "!=", value)


def lt(field: str, value: Value) -> Condition:
    return compare(field, "<", value)


def le(field: str, value: Value) -> Condition:
    return compare(field, "<=", value)


def gt(field: str, value: Value) -> Condition:
    return compare(field, ">", value)


def ge(field: str, value: Value) -> Condition:
    return compare(field, ">=", value)


def contains(field: str, value: str) -> Condition:
    return compare(field, "contains", value)


def like(field: str, pattern: str) -> Condition:
    """``*`` is the wildcard the Developer Guide documents for strings."""
    return compare(field, "like", pattern)


def not_contains(field: str, value: str) -> Condition:
    """The documented negated form: ``summary not contains "x"``."""
    return Condition(f"{_field(field)} not contains {literal(value)}")


def not_like(field: str, pattern: str) -> Condition:
    return Condition(f"{_field(field)} not like {literal(pattern)}")


def in_(field: str, values: Iterable[Value]) -> Condition:
    return Condition(f"{_field(field)} in ({_values(values)})")


def not_in(field: str, values: Iterable[Value]) -> Condition:
    return Condition(f"{_field(field)} not in ({_values(values)})")


def _values(values: Iterable[Value]) -> str:
    items = list(values)
    if not items:
        raise ValueError("an in-list needs at least one value")
    return ", ".join(literal(v) for v in items)


def all_of(*conditions: Condition) -> Condition:
    if not conditions:
        raise ValueError("all_of needs a condition")
    out = conditions[0]
    for c in conditions[1:]:
        out = out & c
    return out


def any_of(*conditions: Condition) -> Condition:
    if not conditions:
        raise ValueError("any_of needs a condition")
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out
