"""Every type, field, argument, input field and enum value the accounts rooms define
(identity, organisations, contacts, tenants, catalogue) and the PSA sync room has a description for front-end
developers, in words: no internal rule id (T1, R4, C3, ...). Checked on the SDL as graphql-core
builds it, the way a tool reading `schema.graphql` sees it."""

from __future__ import annotations

import re

import graphql
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from prism_graph.common.enums import described_enum
from prism_graph.schema import Mutation, Query, build_schema, sdl

pytestmark = pytest.mark.unit

ROOMS = tuple(
    f"prism_graph.{room}"
    for room in ("identity", "organisations", "contacts", "tenants", "catalogue", "sync")
)
# Enums wrap the domain's own (their Python class lives in prism_domain / prism_tables).
ENUMS = {
    "UserRole",
    "UserStatus",
    "PrincipalKind",
    "Application",
    "Permission",
    "OrganisationKind",
    "ContactType",
    "ContactRole",
    "BillingTerm",
    "ProductKind",
    # the sync room's
    "PsaConnectionStatus",
    "PsaConnectionProblem",
    "ProductSyncMode",
    "ProductSyncAction",
    "SyncRunStatus",
    "SyncItemOutcome",
}
RULE_ID = re.compile(r"\b[TCROPSN]\d{1,2}\b")


def _own_type_names() -> set[str]:
    names = set(ENUMS)
    for converted in build_schema().schema_converter.type_map.values():
        definition = converted.definition
        origin = getattr(definition, "origin", None)
        if getattr(origin, "__module__", "").startswith(ROOMS):
            names.add(definition.name)
    return names


def _own_root_fields() -> set[tuple[str, str]]:
    found = set()
    for root, name in ((Query, "Query"), (Mutation, "Mutation")):
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if getattr(field.origin, "__module__", "").startswith(ROOMS):
                found.add((name, field.python_name))
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _problems(schema: GraphQLSchema) -> tuple[list[str], list[str]]:
    missing: list[str] = []
    rule_ids: list[str] = []

    def check(where: str, description: str | None) -> None:
        if not (description or "").strip():
            missing.append(where)
        elif RULE_ID.search(description or ""):
            rule_ids.append(f"{where}: {description}")

    def check_field(where: str, field: graphql.GraphQLField) -> None:
        check(where, field.description)
        for arg_name, arg in field.args.items():
            check(f"{where}({arg_name})", arg.description)

    for name in sorted(_own_type_names()):
        type_ = schema.type_map[name]
        check(name, type_.description)
        if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in type_.fields.items():
                check_field(f"{name}.{field_name}", field)
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                check(f"{name}.{field_name}", input_field.description)
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                check(f"{name}.{value_name}", value.description)
    for root, python_name in sorted(_own_root_fields()):
        root_type = schema.type_map[root]
        assert isinstance(root_type, GraphQLObjectType)
        check_field(f"{root}.{_camel(python_name)}", root_type.fields[_camel(python_name)])
    return missing, rule_ids


def test_everything_the_accounts_and_sync_rooms_define_is_described_in_words() -> None:
    schema = graphql.build_schema(sdl())
    assert len(_own_type_names()) > 60 and len(_own_root_fields()) > 40  # the walk sees them

    missing, rule_ids = _problems(schema)

    assert missing == [], "describe, for a front-end developer: " + ", ".join(missing)
    assert rule_ids == [], "say the rule in words instead of its id: " + "; ".join(rule_ids)


def test_an_enum_value_without_words_fails_at_import() -> None:
    import enum

    class Colour(enum.Enum):
        RED = "RED"
        BLUE = "BLUE"

    with pytest.raises(ValueError, match="missing \\['BLUE'\\]"):
        described_enum(Colour, name="Colour", description="A colour.", values={"RED": "Red."})


def test_every_mutation_of_these_rooms_takes_one_input_argument_or_none() -> None:
    schema = graphql.build_schema(sdl())
    mutation = schema.type_map["Mutation"]
    assert isinstance(mutation, GraphQLObjectType)
    own = [_camel(name) for root, name in _own_root_fields() if root == "Mutation"]

    loose = {name: sorted(mutation.fields[name].args) for name in own}
    loose = {name: args for name, args in loose.items() if args not in ([], ["input"])}

    assert "syncInvoices" in own and "savePsaConnection" in own  # the sync room is walked
    assert loose == {}, f"take one `input` argument instead: {loose}"
