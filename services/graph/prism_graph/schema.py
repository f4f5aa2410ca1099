"""The GraphQL schema: every domain's queries and mutations merged, behind the protections
of N2 (depth, alias and token limits, no introspection in production, error masking) and the
audit log of every mutation."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import strawberry
from strawberry import relay
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from prism_graph.access import authenticated
from prism_graph.audit.extension import AuditMutations
from prism_graph.audit.schema import AuditQueries
from prism_graph.billing.schema import BillingMutations, BillingQueries
from prism_graph.catalogue.schema import CatalogueMutations, CatalogueQueries
from prism_graph.common.errors import should_mask
from prism_graph.contacts.schema import ContactMutations, ContactQueries
from prism_graph.context import Info
from prism_graph.customers.schema import CustomerMutations, CustomerQueries
from prism_graph.customers.tenant_schema import TenantMutations
from prism_graph.customers.update import CustomerUpdateMutations
from prism_graph.identity.schema import IdentityMutations, IdentityQueries
from prism_graph.orders.schema import OrderMutations, OrderQueries
from prism_graph.psa.schema import PsaMutations, PsaQueries
from prism_graph.subscriptions.schema import SubscriptionMutations, SubscriptionQueries


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
):
    @strawberry.field(
        permission_classes=[authenticated()],
        description="Any object by its global id; null when there is none you may see.",
    )
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
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
):
    pass


@dataclass(frozen=True)
class SchemaLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    introspection: bool = True


@functools.cache
def build_schema(limits: SchemaLimits = SchemaLimits()) -> strawberry.Schema:
    extensions = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: QueryDepthLimiter(max_depth=limits.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        AuditMutations,
        lambda: MaskErrors(should_mask_error=should_mask),
    ]
    if not limits.introspection:
        extensions.insert(0, DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
