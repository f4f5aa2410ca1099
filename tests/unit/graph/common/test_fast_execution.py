"""The plain-leaf shortcuts (`prism_graph.common.fast_execution`, issue 6's benchmark)
answer exactly what graphql-core's own path answers: the same data, the same errors with the
same paths, in the same order, for valid values and for every kind of value that is not
plainly valid. It also pins the graphql-core internals the shortcuts rely on: an upgrade that
changes them fails here."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from prism_graph.common.fast_execution import (
    PLAIN_LEAF,
    PlainLeafExecutionContext,
    mark_plain_leaves,
)

pytestmark = pytest.mark.unit


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


class Row:
    """What a loader hands over: attributes read by the default resolver."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


@strawberry.type
class Item:
    name: str
    count: int
    colour: Colour
    note: str | None
    price: Decimal
    day: date

    @strawberry.field
    def computed(self) -> str:
        return f"<{self.name}>"

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError("boom")


@strawberry.type
class Parent:
    title: str
    items: list[Item]
    maybe_items: list[Item | None] | None


def good(i: int) -> Row:
    return Row(
        name=f"n{i}",
        count=i,
        colour=Colour.RED if i % 2 else Colour.BLUE,
        note=None if i % 3 else f"note {i}",
        price=Decimal("1.50") * i,
        day=date(2026, 11, i + 1),
    )


def rows_with(**override: Any) -> list[Row]:
    rows = [good(i) for i in range(4)]
    rows[2].__dict__.update(override)
    return rows


CASES: dict[str, Any] = {
    "all valid": rows_with(),
    "null in a non-null leaf": rows_with(name=None),
    "a value its scalar refuses": rows_with(count="not a number"),
    "an enum value that is not a member": rows_with(colour="GREEN"),
    "a value of another type for String": rows_with(name=42),
    "an exception as a value": rows_with(note=RuntimeError("stored error")),
    "a missing attribute": [Row(name="x"), *rows_with()],
}

QUERIES = [
    "{ parent { title items { name count colour note price day } } }",
    "{ parent { items { name computed count } } }",
    "{ parent { items { a: name b: name count ...F } } } fragment F on Item { colour day }",
    "{ parent { items { name failing count } } }",
    "{ parent { items { name @skip(if: true) count @include(if: true) note } } }",
    "{ parent { maybeItems { name count } title } }",
    "{ parent { items { __typename name } } }",
]


def make_schema(rows: list[Row], *, plain: bool, extension: bool = False) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def parent(self) -> Parent:
            return Parent(title="t", items=rows, maybe_items=[*rows, None])  # type: ignore[arg-type]

    extensions: list[Any] = [Spy] if extension else []
    if not plain:
        return strawberry.Schema(query=Query, extensions=extensions)
    schema = strawberry.Schema(
        query=Query, extensions=extensions, execution_context_class=PlainLeafExecutionContext
    )
    mark_plain_leaves(schema)
    return schema


class Spy(SchemaExtension):
    """A schema extension that sees every field's resolution: the shortcuts must step aside."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Spy.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


def answer(schema: strawberry.Schema, query: str) -> tuple[Any, list[tuple[str, Any]]]:
    result = schema.execute_sync(query)
    errors = [(e.message, e.path) for e in result.errors or []]
    return result.data, errors


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("query", QUERIES)
def test_the_shortcuts_answer_what_graphql_core_answers(case: str, query: str) -> None:
    rows = CASES[case]
    assert answer(make_schema(rows, plain=True), query) == answer(
        make_schema(rows, plain=False), query
    )


def test_the_plain_leaves_are_the_attribute_reads_only() -> None:
    schema = make_schema(CASES["all valid"], plain=True)
    item = schema._schema.type_map["Item"]
    planned = {name for name, f in item.fields.items() if PLAIN_LEAF in f.extensions}  # type: ignore[attr-defined]
    assert planned == {"name", "count", "colour", "note", "price", "day"}


def test_a_schema_extension_that_hooks_resolve_sees_every_field() -> None:
    query = "{ parent { items { name count } } }"
    Spy.seen = []
    plain = answer(make_schema(CASES["all valid"], plain=True, extension=True), query)
    seen_plain = list(Spy.seen)
    Spy.seen = []
    stock = answer(make_schema(CASES["all valid"], plain=False, extension=True), query)
    assert plain == stock
    assert seen_plain == Spy.seen and seen_plain.count("name") == 4
