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
    assert roots(from_file) == roots(live) == ("Query", "Mutation", "Subscription")


def test_a_subscription_of_a_customers_fields_is_refused_by_the_file_as_by_the_server() -> None:
    document = graphql.parse("subscription { sku quantity }")
    from_file = graphql.build_schema(SCHEMA_FILE.read_text())
    assert graphql.validate(from_file, document), (
        "the file accepted a customer subscription's fields as a root"
    )
    result = build_schema().execute_sync("subscription { sku quantity }")
    assert result.errors


def test_a_customers_subscription_is_named_so_that_no_tool_takes_it_for_a_root() -> None:
    """The root `Subscription` holds live updates only (issue 16); a customer's subscription
    is `CustomerSubscription`, never mistaken for the root."""
    from_file = graphql.build_schema(SCHEMA_FILE.read_text())
    assert from_file.subscription_type is from_file.type_map["Subscription"]
    assert set(from_file.type_map["Subscription"].fields) == {"invoiceSyncRunProgress"}
    assert "CustomerSubscription" in from_file.type_map
