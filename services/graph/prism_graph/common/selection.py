"""What a query asks for below a field, read from its selection set (fragments included), so
that a list can read its children together with the page instead of one field at a time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField


def _fields(selections: Iterable[Any]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def selected_below(selections: Iterable[Any], path: Sequence[str]) -> set[str]:
    """The names of the fields selected at `path` under `selections` (e.g. the fields of
    `edges.node` in a connection); empty when the path is not selected. `@skip`/`@include`
    are not evaluated: a field that turns out skipped was merely read for nothing."""
    level: list[Any] = list(selections)
    for name in path:
        level = [
            child for field in _fields(level) if field.name == name for child in field.selections
        ]
    return {field.name for field in _fields(level)}
