"""The speed layer: fields executed without graphql-core's and strawberry's per-field
machinery where it adds nothing. `speed_up` installs all of it on a schema (`schema.py`
calls it once and passes `PlainLeafExecutionContext` as the execution context).

Most fields of a page are leaves that only read an attribute of their parent object (a
customer's `name`, a subscription's `startDate`): no resolver of ours, no argument, no
permission class, no field extension. graphql-core still runs its whole path for each of
them (a path entry, a resolve info object, the middleware chain, strawberry's resolver
wrapper, two awaitable checks, value completion through the non-null wrapper), which on a
page of 100 customers with their children was most of the request. For those fields the
answer is `coerce(read(parent))`, so that is all `PlainLeafExecutionContext` does before
handing the object's other fields to graphql-core, and a list of objects of which only
such leaves are selected is answered in one loop. An object or list with any value that
is not plainly valid (null for a non-null field, a value its scalar refuses, an error, an
item of another type), and everything in a schema with resolve middleware (a schema
extension hooking `resolve`), goes through graphql-core's path whole, which then answers or
reports the error exactly as it always did.

`direct_resolvers` does the same for resolvers that need only their parent and the
request's context (`prism_graph.context.context_field`): graphql-core calls them without
strawberry's wrapper. `fast_node_ids` reads a relay Node's `id` straight from its row.

Private internals this relies on (none of them is public API):
- strawberry: `Schema._schema` (the graphql-core schema it wraps),
  `strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext`,
  `strawberry.schema.schema_converter.CustomGraphQLEnumType` and
  `GraphQLCoreConverter.DEFINITION_BACKREF` (a GraphQL field's `StrawberryField`),
  `StrawberryField.is_basic_field` and `default_resolver`, the `_is_default` mark of its
  default resolver, and relay's `GlobalID` text (`base64("<type name>:<id>")`) with
  `Node.resolve_id`, `resolve_typename` and `resolve_id_attr`;
- graphql-core 3.3's `ExecutionContext`: `execute_fields` and `complete_list_value` (with
  their `position_context` argument), `collect_subfields` (`grouped_field_set`,
  `new_defer_usages`, `forbidden_directive_instances`), `get_stream_usage`, `is_awaitable`
  and `middleware_manager.get_field_resolver`.
pyproject.toml pins the versions they were checked against (`strawberry-graphql>=0.341,<0.342`,
`graphql-core>=3.3.2,<3.4`), and `tests/unit/graph/common/test_fast_execution.py` pins the
internals: an upgrade that changes them fails there, so move the bounds only with it passing.
"""

from __future__ import annotations

import base64
import contextlib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

import strawberry
from graphql import (
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path, Undefined
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# The `metadata` key of a strawberry field answered by `resolve(parent, context)` (see
# `direct_resolvers`).
CONTEXT_RESOLVER = "prism-context-resolver"

# Where a field's plan is kept: in the GraphQL field's own `extensions` (data for tools,
# never shown in the SDL or by introspection), so that it lives and dies with its schema.
PLAIN_LEAF = "prism-plain-leaf"


def speed_up(schema: strawberry.Schema) -> None:
    """Install the shortcuts on `schema` (built with `PlainLeafExecutionContext`): plain
    leaves, direct context resolvers, then relay ids (which are plain leaves of their own)."""
    mark_plain_leaves(schema)
    direct_resolvers(schema)
    fast_node_ids(schema)


# What `PlainLeaf.answer` returns for a value only graphql-core may complete.
NOT_PLAIN: Any = object()


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    """How to answer a leaf field: its value is `coerce(read(parent))`."""

    read: Callable[[Any], Any]
    coerce: Callable[[Any], Any]
    nullable: bool
    # Values whose answer is known without calling `coerce` (what it returns for them):
    # a `str` is its own answer for String and ID, an enum member its name.
    known_type: type | None = None
    known: Mapping[Any, Any] | None = None

    def answer(self, parent: Any) -> Any:
        try:
            value = self.read(parent)
            if value is None:
                return None if self.nullable else NOT_PLAIN
            if type(value) is self.known_type:
                return value if self.known is None else self.known[value]
            if value is Undefined or isinstance(value, Exception):
                return NOT_PLAIN
            coerced = self.coerce(value)
        except Exception:
            return NOT_PLAIN
        return NOT_PLAIN if coerced is None or coerced is Undefined else coerced


def plain_leaf(field: GraphQLField, read: Callable[[Any], Any]) -> PlainLeaf | None:
    """The plan of a scalar or enum field answered by `read(parent)`; None for other types."""
    if not is_leaf_type(get_nullable_type(field.type)):
        return None  # lists and objects go through graphql-core
    leaf_type: Any = get_nullable_type(field.type)
    known_type: type | None = None
    known: dict[Any, Any] | None = None
    if leaf_type is GraphQLString or leaf_type is GraphQLID:
        known_type = str  # both answer a str with itself
    elif isinstance(leaf_type, CustomGraphQLEnumType) and issubclass(leaf_type.wrapped_cls, Enum):
        known_type = leaf_type.wrapped_cls
        known = {}
        for member in leaf_type.wrapped_cls:
            with contextlib.suppress(Exception):  # a member it refuses stays graphql-core's
                known[member] = leaf_type.coerce_output_value(member)
    return PlainLeaf(
        read=read,
        coerce=leaf_type.coerce_output_value,
        nullable=not is_non_null_type(field.type),
        known_type=known_type,
        known=known,
    )


def mark_plain_leaves(schema: strawberry.Schema) -> None:
    """Give every field of `schema` that only reads an attribute into a scalar or enum its
    plan. Strawberry calls such a field "basic": no resolver, no extension and no permission
    class (permission classes are field extensions), read with the default resolver."""
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field in graphql_type.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if (
                isinstance(definition, StrawberryField)
                and definition.is_basic_field
                and definition.default_resolver is getattr
                and getattr(field.resolve, "_is_default", False)
                and not field.args
                and definition.python_name
            ):
                plan = plain_leaf(field, operator.attrgetter(definition.python_name))
                if plan is not None:
                    field.extensions[PLAIN_LEAF] = plan


def direct_resolvers(schema: strawberry.Schema) -> None:
    """Call the fields declared with a context resolver (`prism_graph.context.context_field`)
    straight from graphql-core, without strawberry's wrapper around every resolver call (an
    `Info` object, argument conversion, the field extension chain): such a resolver needs
    the parent and the request's context only. A field with an argument or an extension (a
    permission class is one) keeps strawberry's path; resolve middleware still wraps it."""
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field in graphql_type.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField):
                continue
            resolve = definition.metadata.get(CONTEXT_RESOLVER)
            if resolve is not None and not definition.extensions and not field.args:
                field.resolve = _calling(resolve)


def _calling(resolve: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def resolver(parent: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return resolve(parent, info.context)

    return resolver


def fast_node_ids(schema: strawberry.Schema) -> None:
    """`id` of every relay Node type read straight from the row's id attribute.

    strawberry resolves `Node.id` through a general resolver (an `Info` object, argument
    conversion, the type's `resolve_id` and `resolve_typename`) for every object of every
    page: on a page of 100 customers with their contacts and subscriptions that is 600 calls
    and a fifth of the request. For our types, which override neither hook, the answer is
    the same `GlobalID(type name, str(row id))`, so the resolver is replaced by exactly that
    (already encoded), and the field is answered as a plain leaf.
    """
    for name, graphql_type in schema._schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        definition = schema.get_type_by_name(name)
        origin = getattr(definition, "origin", None)
        if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
            continue
        if any(
            getattr(getattr(origin, hook), "__func__", None)
            is not getattr(getattr(relay.Node, hook), "__func__", None)
            for hook in ("resolve_id", "resolve_typename")
        ):
            continue  # a type with its own idea of its id keeps strawberry's resolver
        field = graphql_type.fields["id"]
        read = _global_id_reader(name, origin.resolve_id_attr())
        field.resolve = lambda root, _info, read=read: read(root)
        plan = plain_leaf(field, read)
        assert plan is not None  # `id` is an ID
        field.extensions[PLAIN_LEAF] = plan


def _global_id_reader(type_name: str, attr: str) -> Callable[[Any], str]:
    """`str(GlobalID(type_name, str(row.<attr>)))`, without the intermediate object."""
    prefix = f"{type_name}:"

    def read(root: Any) -> str:
        return base64.b64encode(f"{prefix}{getattr(root, attr)}".encode()).decode()

    return read


def _probe(*_: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Split:
    """A selection's fields: the plain leaves, the others (for graphql-core) and the order."""

    fields: dict[str, Any]  # the selection itself, kept alive while its id is a cache key
    leaves: list[tuple[str, PlainLeaf]]
    others: dict[str, Any]
    order: list[tuple[str, bool]]  # (response name, is a plain leaf)


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, answering plain leaf fields directly (see the module
    docstring); everything else is graphql-core's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A schema extension that hooks `resolve` must see every field: then no shortcut.
        middleware = self.middleware_manager
        self._plain = middleware is None or middleware.get_field_resolver(_probe) is _probe
        # graphql-core collects the fields of a list's items once for all of them, so the
        # same selection comes back for each item: split it once (per request).
        self._splits: dict[tuple[GraphQLObjectType, int], _Split] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        split = self._split(parent_type, grouped_field_set) if self._plain else None
        if split is None or not split.leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        answers = {}
        for name, leaf in split.leaves:
            answer = leaf.answer(source_value)
            if answer is NOT_PLAIN:  # graphql-core decides, for the whole object
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            answers[name] = answer
        if not split.others:
            return answers
        others = super().execute_fields(
            parent_type, source_value, path, split.others, position_context
        )
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return _merge(split.order, answers, await others)

            return merged()
        return _merge(split.order, answers, cast("dict[str, Any]", others))

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects of which only plain leaves are selected (a customer's tenants,
        contacts or subscriptions) is answered in one loop, without completing each item
        and each of its fields one by one."""
        items = self._plain_items(return_type, field_details_list, info, path, result)
        if items is not None:
            return items
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain_items(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
    ) -> list[dict[str, Any]] | None:
        """The answers of a list whose items are plain (see `complete_list_value`), or None
        for graphql-core to complete it: not a list, not a list of objects, streamed or
        deferred, a selection with other fields, or any item not plainly valid."""
        item_type = get_nullable_type(return_type.of_type)
        if not (
            self._plain
            and type(result) is list
            and isinstance(item_type, GraphQLObjectType)
            and self.get_stream_usage(field_details_list, path) is None
        ):
            return None
        collected = self.collect_subfields(item_type, field_details_list)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return None
        split = self._split(item_type, collected.grouped_field_set)
        if split.others:
            return None
        is_type_of = item_type.is_type_of
        leaves = split.leaves
        answered = []
        for item in result:
            if item is None or (is_type_of is not None and is_type_of(item, info) is not True):
                return None
            answers = {}
            for name, leaf in leaves:
                answer = leaf.answer(item)
                if answer is NOT_PLAIN:
                    return None
                answers[name] = answer
            answered.append(answers)
        return answered

    def _split(self, parent_type: GraphQLObjectType, fields: dict[str, Any]) -> _Split:
        key = (parent_type, id(fields))
        split = self._splits.get(key)
        if split is None:
            leaves: list[tuple[str, PlainLeaf]] = []
            others: dict[str, Any] = {}
            order: list[tuple[str, bool]] = []
            for name, details in fields.items():
                field = self.schema.get_field(parent_type, details[0].node.name.value)
                leaf = field.extensions.get(PLAIN_LEAF) if field is not None else None
                if leaf is not None:
                    leaves.append((name, leaf))
                else:
                    others[name] = details
                order.append((name, leaf is not None))
            split = self._splits[key] = _Split(fields, leaves, others, order)
        return split


def _merge(
    order: list[tuple[str, bool]], answers: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    """One object's answers in the order of its selection (the order of the response)."""
    results = {}
    for name, is_leaf in order:
        if is_leaf:
            results[name] = answers[name]
        elif name in others:  # graphql-core leaves out fields the type does not have
            results[name] = others[name]
    return results
