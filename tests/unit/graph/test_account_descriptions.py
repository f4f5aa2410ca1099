"""The whole public schema is a contract a front-end tool can trust: every type, field,
argument, input field and enum value has a description for front-end developers, in words (no
internal rule id such as T1, R4, C3); every mutation takes one `input` argument (or none); every
connection with edges offers `totalCount`. Checked on the SDL as graphql-core builds it, the way
a tool reading `schema.graphql` sees it, with each type traced to the room (module) that
defines it so that a failure says where to write the words."""

from __future__ import annotations

import re
from collections.abc import Iterable

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

# What the contract does not cover yet, described by another branch: rooms (the types their
# modules define and the root fields they add) and, by name, the domain's enums that only
# those rooms expose (an enum's Python class lives in prism_domain / prism_tables). Empty:
# the whole schema is covered; a room added without its words goes here only until they come.
PENDING: set[str] = set()

# The rooms and domain enums `_own_type_names`, `_own_root_fields` and `_problems` walk;
# another room's test points them at its own (tests/unit/graph/test_billing_descriptions.py).
ROOMS = tuple(
    f"prism_graph.{room}"
    for room in ("identity", "organisations", "contacts", "tenants", "catalogue", "sync")
)
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
    "PsaConnectionStatus",
    "PsaConnectionProblem",
    "ProductSyncMode",
    "ProductSyncAction",
    "SyncRunStatus",
    "SyncItemOutcome",
}
RULE_ID = re.compile(r"\b[TCROPSN]\d{1,2}\b")
ROOTS = (("Query", Query), ("Mutation", Mutation))


def _in(module: str, rooms: Iterable[str]) -> bool:
    return any(module == room or module.startswith(room + ".") for room in rooms)


def _type_modules() -> dict[str, str]:
    """Each GraphQL type strawberry made, by name: the module of the class it comes from
    (built-in scalars and strawberry's own types such as PageInfo have strawberry's)."""
    found = {}
    for converted in build_schema().schema_converter.type_map.values():
        definition = converted.definition
        origin = getattr(definition, "origin", None)
        found[definition.name] = getattr(origin, "__module__", "") or ""
    return found


def _root_field_modules() -> dict[tuple[str, str], str]:
    """Each root field as (root, python name): the module of the class that adds it."""
    return {
        (root, field.python_name): getattr(field.origin, "__module__", "") or ""
        for root, cls in ROOTS
        for field in cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
    }


def _own_type_names() -> set[str]:
    return set(ENUMS) | {name for name, module in _type_modules().items() if _in(module, ROOMS)}


def _own_root_fields() -> set[tuple[str, str]]:
    return {key for key, module in _root_field_modules().items() if _in(module, ROOMS)}


def _pending(name: str, module: str) -> bool:
    return name in PENDING or _in(module, PENDING)


def _public_type_names(schema: GraphQLSchema, *, pending: bool = False) -> set[str]:
    """Every named type of the schema but the roots and introspection's: those not pending
    (or, with `pending=True`, only those)."""
    modules = _type_modules()
    return {
        name
        for name in schema.type_map
        if not name.startswith("__")
        and name not in {"Query", "Mutation"}
        and _pending(name, modules.get(name, "")) == pending
    }


def _public_root_fields(*, pending: bool = False) -> set[tuple[str, str]]:
    return {key for key, module in _root_field_modules().items() if _in(module, PENDING) == pending}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _check(
    schema: GraphQLSchema, type_names: Iterable[str], root_fields: Iterable[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """What of these types and root fields has no description, and which descriptions cite a
    rule id."""
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

    for name in sorted(type_names):
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
    for root, python_name in sorted(root_fields):
        root_type = schema.type_map[root]
        assert isinstance(root_type, GraphQLObjectType)
        check_field(f"{root}.{_camel(python_name)}", root_type.fields[_camel(python_name)])
    return missing, rule_ids


def _problems(schema: GraphQLSchema) -> tuple[list[str], list[str]]:
    """`_check` of what ROOMS and ENUMS name."""
    return _check(schema, _own_type_names(), _own_root_fields())


def _loose_mutations(
    schema: GraphQLSchema, root_fields: Iterable[tuple[str, str]]
) -> dict[str, list[str]]:
    mutation = schema.type_map["Mutation"]
    assert isinstance(mutation, GraphQLObjectType)
    arguments = {
        _camel(name): sorted(mutation.fields[_camel(name)].args)
        for root, name in root_fields
        if root == "Mutation"
    }
    return {name: args for name, args in arguments.items() if args not in ([], ["input"])}


def _uncounted_connections(schema: GraphQLSchema, type_names: Iterable[str]) -> list[str]:
    return sorted(
        name
        for name in type_names
        if isinstance(type_ := schema.type_map[name], GraphQLObjectType)
        and "edges" in type_.fields
        and "totalCount" not in type_.fields
    )


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return graphql.build_schema(sdl())


def test_every_type_field_argument_and_enum_value_of_the_schema_is_described_in_words(
    schema: GraphQLSchema,
) -> None:
    type_names, root_fields = _public_type_names(schema), _public_root_fields()
    # The walk sees the whole schema: every room, the shared types, the built-in scalars.
    assert {"ErrorCode", "UserError", "PageInfo", "Node", "AuditEvent", "String"} <= type_names
    assert {("Query", "node"), ("Query", "audit_log"), ("Mutation", "create_partner")} <= (
        root_fields
    )
    assert len(type_names) > 150 and len(root_fields) > 70

    missing, rule_ids = _check(schema, type_names, root_fields)

    assert missing == [], "describe, for a front-end developer: " + ", ".join(missing)
    assert rule_ids == [], "say the rule in words instead of its id: " + "; ".join(rule_ids)


def test_every_mutation_takes_one_input_argument_or_none(schema: GraphQLSchema) -> None:
    root_fields = _public_root_fields()
    assert ("Mutation", "retest_psa_connection") in root_fields  # one without arguments

    assert _loose_mutations(schema, root_fields) == {}, "take one `input` argument instead"


def test_every_connection_with_edges_counts_its_items(schema: GraphQLSchema) -> None:
    type_names = _public_type_names(schema)
    assert {"UserConnection", "PsaChoiceConnection", "SyncCustomerConnection"} <= type_names

    assert _uncounted_connections(schema, type_names) == [], "add totalCount (the Counted mixin)"


def test_pending_rooms_still_fail_the_contract(schema: GraphQLSchema) -> None:
    """Each PENDING entry names something in the schema that does not pass yet: one that
    passes is taken out of PENDING, so that the contract covers it from then on."""
    modules, root_modules = _type_modules(), _root_field_modules()
    pending_types = _public_type_names(schema, pending=True)
    pending_roots = _public_root_fields(pending=True)

    passing = []
    for entry in sorted(PENDING):
        types = {n for n in pending_types if n == entry or _in(modules.get(n, ""), {entry})}
        roots = {k for k in pending_roots if _in(root_modules[k], {entry})}
        assert types or roots, f"PENDING names {entry}, which the schema does not have"
        missing, rule_ids = _check(schema, types, roots)
        if not (
            missing
            or rule_ids
            or _loose_mutations(schema, roots)
            or _uncounted_connections(schema, types)
        ):
            passing.append(entry)

    assert passing == [], f"these pass the contract now, take them out of PENDING: {passing}"


def test_the_accounts_and_sync_rooms_walk_sees_them(schema: GraphQLSchema) -> None:
    """The room walk other rooms' tests reuse (ROOMS, ENUMS) finds its rooms and passes."""
    assert len(_own_type_names()) > 60 and len(_own_root_fields()) > 40

    assert _problems(schema) == ([], [])
    assert _loose_mutations(schema, _own_root_fields()) == {}


def test_an_enum_value_without_words_fails_at_import() -> None:
    import enum

    class Colour(enum.Enum):
        RED = "RED"
        BLUE = "BLUE"

    with pytest.raises(ValueError, match="missing \\['BLUE'\\]"):
        described_enum(Colour, name="Colour", description="A colour.", values={"RED": "Red."})
