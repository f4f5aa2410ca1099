"""The GraphQL schema: every domain's queries and mutations merged, behind the protections
of N2 (depth, alias and token limits, no introspection in production, error masking) and the
audit log of every mutation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from prism_graph.access import authenticated
from prism_graph.audit.extension import audit_mutations
from prism_graph.audit.schema import AuditQueries
from prism_graph.billing.schema import BillingMutations, BillingQueries
from prism_graph.catalogue.schema import CatalogueMutations, CatalogueQueries
from prism_graph.common.errors import should_mask
from prism_graph.common.fast_execution import PlainLeafExecutionContext, speed_up
from prism_graph.common.metrics import OperationMetrics
from prism_graph.contacts.schema import ContactMutations, ContactQueries
from prism_graph.context import Info
from prism_graph.customers.schema import CustomerMutations, CustomerQueries
from prism_graph.customers.update import CustomerUpdateMutations
from prism_graph.identity.schema import IdentityMutations, IdentityQueries
from prism_graph.orders.schema import OrderMutations, OrderQueries
from prism_graph.organisations.schema import OrganisationMutations, OrganisationQueries
from prism_graph.subscriptions.schema import SubscriptionMutations, SubscriptionQueries
from prism_graph.sync.progress_schema import SyncSubscriptions
from prism_graph.sync.schema import PsaMutations, PsaQueries
from prism_graph.tenants.schema import TenantMutations
from prism_graph.webhooks.schema import WebhookMutations, WebhookQueries


@strawberry.type
class Query(
    CustomerQueries,
    IdentityQueries,
    AuditQueries,
    CatalogueQueries,
    ContactQueries,
    SubscriptionQueries,
    BillingQueries,
    PsaQueries,
    OrderQueries,
    OrganisationQueries,
    WebhookQueries,
):
    @strawberry.field(
        permission_classes=[authenticated()],
        description="Any object by its global id; null when there is none you may see.",
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID,
            strawberry.argument(description="The object's global id, as any `id` field gives it."),
        ],
    ) -> relay.Node | None:
        try:
            return await id.resolve_node(info, required=False)
        except (ValueError, KeyError, AttributeError, TypeError):
            return None  # an id naming no type of this schema


@strawberry.type
class Mutation(
    CustomerMutations,
    IdentityMutations,
    CatalogueMutations,
    ContactMutations,
    SubscriptionMutations,
    TenantMutations,
    BillingMutations,
    PsaMutations,
    CustomerUpdateMutations,
    OrderMutations,
    OrganisationMutations,
    WebhookMutations,
):
    pass


@strawberry.type(
    description="Live updates, over a WebSocket at /graphql (graphql-transport-ws): an "
    "invoice sync run's progress."
)
class Subscription(SyncSubscriptions):
    pass


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    introspection: bool = True


# Parsed and validated documents are kept (bounded LRU, keyed by the query text and the
# limits' rules): clients send the same few documents again and again.
DOCUMENT_CACHE_SIZE = 256


@functools.cache
def build_schema(limits: SchemaLimits = SchemaLimits()) -> strawberry.Schema:
    # The limits' validation rules are made once per schema, not per request, so that a
    # validated document can be found again in the cache (the rules are part of its key).
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    if not limits.introspection:
        rules = [*DisableIntrospection().validation_rules, *rules]
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # First, so that it exits last: it sees the errors as the client gets them.
        OperationMetrics,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: MaskErrors(should_mask_error=should_mask),
    ]
    audit_mutations(Mutation)
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=PlainLeafExecutionContext,
    )
    speed_up(schema)  # the speed layer (common/fast_execution.py)
    return schema


# graphql-core and graphql-js leave the schema block out when the roots have their default
# names, and tools then guess the roots by name. It is written out, so that the file names
# exactly the roots the server has.
ROOTS_BLOCK = "schema {\n  query: Query\n  mutation: Mutation\n  subscription: Subscription\n}\n\n"


def sdl() -> str:
    """The public schema as SDL, as committed in schema.graphql."""
    return ROOTS_BLOCK + build_schema().as_str() + "\n"
