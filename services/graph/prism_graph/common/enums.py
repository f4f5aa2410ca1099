"""GraphQL enums made from the domain's enums, with a description for every value.

The domain's enums know nothing of GraphQL (and may not import strawberry), so the words a
front-end developer reads about each value are given where the enum is exposed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, *, name: str, description: str, values: Mapping[str, str]) -> E:
    """`strawberry.enum(cls)` with `values[member name]` as each value's description.

    Every member must be described, and only members: a value added to the domain's enum
    later fails here, at import, rather than reaching the schema without words.
    """
    members = {member.name for member in cls}
    missing, unknown = members - set(values), set(values) - members
    if missing or unknown:
        raise ValueError(
            f"{name}: describe exactly its values (missing {sorted(missing)}, "
            f"unknown {sorted(unknown)})"
        )
    exposed = strawberry.enum(cls, name=name, description=description)
    for value in exposed.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[value.name]
    return exposed


def described(*, name: str, description: str, values: Mapping[str, str]) -> Callable[[E], E]:
    """`described_enum` as a class decorator, for an enum the API itself defines (one that is
    not the domain's), so that the class stays a type for annotations."""

    def expose(cls: E) -> E:
        return described_enum(cls, name=name, description=description, values=values)

    return expose
