"""schema.graphql means to every tool what the live server means: the same root types, so a
document the server refuses does not validate against the file either."""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

from prism_graph.schema import build_schema

pytestmark = pytest.mark.integration

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def roots(schema: graphql.GraphQLSchema) -> tuple[str | None, ...]:
    return tuple(
        t.name if t else None
        for t in (schema.query_type, schema.mutation_type, schema.subscription_type)
    )


def test_committed_file_has_the_live_servers_root_types() -> None:
    from_file = graphql.build_schema(SCHEMA_FILE.read_text())
    live = build_schema()._schema
    assert roots(from_file) == roots(live) == ("Query", "Mutation", None)


def test_a_subscription_operation_is_refused_by_the_file_as_by_the_server() -> None:
    document = graphql.parse("subscription { sku quantity }")
    from_file = graphql.build_schema(SCHEMA_FILE.read_text())
    assert graphql.validate(from_file, document), "the file accepted a subscription operation"
    result = build_schema().execute_sync("subscription { sku quantity }")
    assert result.errors


def test_a_customers_subscription_is_named_so_that_no_tool_takes_it_for_a_root() -> None:
    from_file = graphql.build_schema(SCHEMA_FILE.read_text())
    assert "Subscription" not in from_file.type_map
    assert "CustomerSubscription" in from_file.type_map
