"""Parsing and evaluating ``conditions``, ``fields`` and ``orderBy`` as documented.

Supported (docs/connectwise.md §4): ``= != < <= > >=``, ``contains``, ``like`` (``*`` and
``%`` wildcards), ``in (...)``, their ``not`` forms (``not contains``, ``not like``,
``not in``), a prefix ``not``, ``and``/``or`` (``and`` binds tighter) and parentheses;
strings in double quotes with backslash escapes, bare numbers, ``true``/``false``, ``null``,
date-times in square brackets, reference fields with a slash. Keywords and field names are
case-insensitive; so are string comparisons (SQL Server's default collation; UNCONFIRMED).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import errors as E

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<date>\[[^\]]*\])
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "contains", "like", "in", "true", "false", "null"}


@dataclass
class _Tok:
    kind: str
    text: str
    value: Any = None


class _Missing:
    pass


MISSING = _Missing()


def _fail(why: str) -> E.ApiFailure:
    return E.bad_request(E.BAD_FILTER.format(why=why))


def tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _fail(f"unexpected text at {pos}: {text[pos : pos + 12]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        raw = m.group(kind)
        if kind == "str":
            out.append(_Tok("value", raw, re.sub(r"\\(.)", r"\1", raw[1:-1])))
        elif kind == "date":
            out.append(_Tok("value", raw, _datetime(raw[1:-1])))
        elif kind == "num":
            out.append(_Tok("value", raw, float(raw)))
        elif kind == "word" and raw.lower() in _KEYWORDS:
            low = raw.lower()
            if low in ("true", "false"):
                out.append(_Tok("value", raw, low == "true"))
            elif low == "null":
                out.append(_Tok("value", raw, None))
            else:
                out.append(_Tok("kw", low))
        else:
            out.append(_Tok(kind, raw))
    return out


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"not a date-time: [{text}]") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lookup(record: Record, path: str) -> Any:
    """``record[a][b]`` for ``a/b``, keys matched case-insensitively; MISSING if absent."""
    value: Any = record
    for part in path.split("/"):
        if not isinstance(value, dict):
            return MISSING
        if part in value:
            value = value[part]
            continue
        low = part.lower()
        for k, v in value.items():
            if k.lower() == low:
                value = v
                break
        else:
            return MISSING
    return value


class _Parser:
    def __init__(self, tokens: list[_Tok], known: Callable[[str], bool]) -> None:
        self.tokens = tokens
        self.i = 0
        self.known = known

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _fail("the conditions end too early")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "kw" and tok.text == word:
            self.i += 1
            return True
        return False

    def punct(self, char: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "punct" and tok.text == char:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        pred = self.expr()
        if self.peek() is not None:
            raise _fail(f"unexpected {self.take().text!r}")
        return pred

    def expr(self) -> Predicate:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        if self.keyword("not"):
            inner = self.unary()
            return lambda r: not inner(r)
        if self.punct("("):
            inner = self.expr()
            if not self.punct(")"):
                raise _fail("a parenthesis is not closed")
            return inner
        return self.comparison()

    def value(self) -> Any:
        tok = self.take()
        if tok.kind != "value":
            raise _fail(f"expected a value, got {tok.text!r}")
        return tok.value

    def comparison(self) -> Predicate:
        tok = self.take()
        if tok.kind != "word":
            raise _fail(f"expected a field, got {tok.text!r}")
        field = tok.text
        if not self.known(field):
            raise _fail(f"unknown field {field!r}")
        negate = self.keyword("not")
        nxt = self.take()
        if nxt.kind == "op" and not negate:
            return _compare(field, nxt.text, self.value())
        if nxt.kind == "kw" and nxt.text in ("contains", "like"):
            pred = _text_match(field, nxt.text, self.value())
        elif nxt.kind == "kw" and nxt.text == "in":
            if not self.punct("("):
                raise _fail("in needs a parenthesised list")
            values = [self.value()]
            while self.punct(","):
                values.append(self.value())
            if not self.punct(")"):
                raise _fail("an in-list is not closed")
            pred = _within(field, values)
        else:
            raise _fail(f"expected an operator after {field!r}, got {nxt.text!r}")
        return (lambda r: not pred(r)) if negate else pred


def _norm(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return value.lower()
    return value


def _coerce_pair(actual: Any, wanted: Any) -> tuple[Any, Any]:
    if isinstance(wanted, datetime) and isinstance(actual, str):
        try:
            return _datetime(actual), wanted
        except E.ApiFailure:
            return None, wanted
    if isinstance(wanted, float) and isinstance(actual, str):
        try:
            return float(actual), wanted
        except ValueError:
            return actual.lower(), str(wanted)
    return _norm(actual), _norm(wanted)


def _compare(field: str, op: str, wanted: Any) -> Predicate:
    def check(record: Record) -> bool:
        actual = lookup(record, field)
        if actual is MISSING:
            actual = None
        if wanted is None or actual is None:
            same = wanted is None and actual is None
            return same if op == "=" else (not same if op == "!=" else False)
        a, w = _coerce_pair(actual, wanted)
        try:
            if op == "=":
                return bool(a == w)
            if op == "!=":
                return bool(a != w)
            if op == "<":
                return bool(a < w)
            if op == "<=":
                return bool(a <= w)
            if op == ">":
                return bool(a > w)
            return bool(a >= w)
        except TypeError:
            return False

    return check


def _text_match(field: str, op: str, wanted: Any) -> Predicate:
    if not isinstance(wanted, str):
        raise _fail(f"{op} needs a string")
    if op == "contains":
        needle = wanted.lower()
        return lambda r: isinstance(v := lookup(r, field), str) and needle in v.lower()
    pattern = "".join(".*" if c in "*%" else re.escape(c) for c in wanted)
    rx = re.compile(f"^{pattern}$", re.IGNORECASE | re.DOTALL)
    return lambda r: isinstance(v := lookup(r, field), str) and rx.match(v) is not None


def _within(field: str, values: list[Any]) -> Predicate:
    checks = [_compare(field, "=", v) for v in values]
    return lambda r: any(c(r) for c in checks)


def parse(text: str | None, known: Callable[[str], bool]) -> Predicate:
    if text is None or not text.strip():
        return lambda r: True
    return _Parser(tokenize(text), known).parse()


def project(record: Record, fields: list[str]) -> Record:
    """Only ``fields`` (``a/b`` keeps ``{"a": {"b": ...}}``)."""
    out: Record = {}
    for path in fields:
        value = lookup(record, path)
        if value is MISSING:
            continue
        parts = path.split("/")
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def order(
    records: list[Record], order_by: str | None, known: Callable[[str], bool]
) -> list[Record]:
    """Sorted by ``orderBy`` (``name asc, id desc``); by id when not given."""
    if not order_by:
        return sorted(records, key=lambda r: int(r["id"]))
    keys: list[tuple[str, bool]] = []
    for part in order_by.split(","):
        bits = part.split()
        if not bits or len(bits) > 2 or not known(bits[0]):
            raise _fail(f"cannot order by {part.strip()!r}")
        desc = len(bits) == 2 and bits[1].lower() == "desc"
        if len(bits) == 2 and bits[1].lower() not in ("asc", "desc"):
            raise _fail(f"cannot order by {part.strip()!r}")
        keys.append((bits[0], desc))
    out = sorted(records, key=lambda r: int(r["id"]))
    for field, desc in reversed(keys):
        out.sort(key=lambda r: _sort_key(lookup(r, field)), reverse=desc)
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is MISSING or value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, float(value))
    return (2, str(value).lower())
