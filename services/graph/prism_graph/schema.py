"""The GraphQL schema: every domain's queries and mutations, merged in one place."""

from __future__ import annotations

import functools

import strawberry
from strawberry import relay
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig

from prism_graph.common.errors import should_mask
from prism_graph.customers.schema import CustomerMutations, CustomerQueries


@strawberry.type
class Query(CustomerQueries):
    node: relay.Node | None = relay.node(description="Any object by its global id.")


@strawberry.type
class Mutation(CustomerMutations):
    pass


@functools.cache
def build_schema() -> strawberry.Schema:
    # Built once: strawberry's relay fields bind their resolvers to the classes on first build.
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[lambda: MaskErrors(should_mask_error=should_mask)],
        config=StrawberryConfig(auto_camel_case=True),
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
