from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info as StrawberryInfo

from prism_domain.access import Principal, Scope
from prism_graph.access import scope_for
from prism_graph.billing.loaders import BillingLoaders
from prism_graph.catalogue.loaders import CatalogueLoaders
from prism_graph.common.fast_execution import CONTEXT_RESOLVER
from prism_graph.contacts.loaders import ContactLoaders
from prism_graph.customers.loaders import CustomerLoaders
from prism_graph.database import Database, RequestReader
from prism_graph.identity.loaders import IdentityLoaders
from prism_graph.orders.loaders import OrderLoaders
from prism_graph.organisations.loaders import OrganisationLoaders
from prism_graph.subscriptions.loaders import SubscriptionLoaders
from prism_graph.sync.loaders import SyncLoaders
from prism_graph.webhooks.loaders import WebhookLoaders

if TYPE_CHECKING:
    from prism_graph.contacts.config import ContactsConfig
    from prism_graph.identity.service import IdentityConfig
    from prism_graph.sync.live import ProgressHub
    from prism_graph.webhooks.config import WebhookApiConfig
    from prism_psa.connections import PsaConfig


class Loaders(
    OrganisationLoaders,
    IdentityLoaders,
    CustomerLoaders,
    CatalogueLoaders,
    SubscriptionLoaders,
    BillingLoaders,
    ContactLoaders,
    OrderLoaders,
    SyncLoaders,
    WebhookLoaders,
):
    """A request's `<Thing>By<Key>` loaders: every domain's, each created on first use (see
    `prism_graph.common.loaders.RequestLoaders`)."""


@dataclass
class Context:
    """Everything a resolver may use, built fresh for each request (no module-level state)."""

    database: Database
    reader: RequestReader
    loaders: Loaders
    principal: Principal | None
    scope: Scope | None
    identity: IdentityConfig
    client_address: str | None = None
    request: Any = None
    response: Any = None
    # The deployment's contacts settings (None: the defaults) and PSA settings (None: the
    # PSA screens answer that sync is not configured on this server).
    contacts: ContactsConfig | None = None
    psa: PsaConfig | None = None
    # Partner webhooks' settings (None: the webhook screens answer that they are off).
    webhooks: WebhookApiConfig | None = None
    # Live progress (subscriptions over a WebSocket): the process's poller; None: not served.
    progress: ProgressHub | None = None
    # A WebSocket's connection_init payload (graphql-transport-ws), e.g. its authorization.
    connection_params: dict[str, Any] | None = None

    def sign_in(self, principal: Principal | None) -> None:
        """Act as `principal` from now on (a WebSocket authenticates after its context is
        made, in its connection_init)."""
        self.principal = principal
        self.scope = scope_for(principal)
        self.loaders = Loaders(self.reader, self.scope)

    async def fresh_reads(self) -> None:
        """For a long-lived connection (a WebSocket): end the read session's transaction and
        forget what the loaders hold, so the next reads see the database as it is then."""
        await self.reader.release()
        self.loaders = Loaders(self.reader, self.scope)

    @classmethod
    def for_request(
        cls,
        database: Database,
        identity: IdentityConfig,
        principal: Principal | None = None,
        *,
        client_address: str | None = None,
        request: Any = None,
        response: Any = None,
        contacts: ContactsConfig | None = None,
        psa: PsaConfig | None = None,
        webhooks: WebhookApiConfig | None = None,
        progress: ProgressHub | None = None,
    ) -> Context:
        reader = database.reader()
        scope = scope_for(principal)
        return cls(
            database=database,
            reader=reader,
            loaders=Loaders(reader, scope),
            principal=principal,
            scope=scope,
            identity=identity,
            client_address=client_address,
            request=request,
            response=response,
            contacts=contacts,
            psa=psa,
            webhooks=webhooks,
            progress=progress,
        )


Info = StrawberryInfo[Context, None]


def context_field(resolve: Callable[[Any, Context], Any], **options: Any) -> Any:
    """A field answered by `resolve(parent, context)`, for resolvers that need nothing else
    of `info` (e.g. a relationship read through the context's loaders). The schema calls
    `resolve` directly (`prism_graph.common.fast_execution.direct_resolvers`), which spares
    the field strawberry's per-call wrapper; `options` are `strawberry.field`'s
    (`graphql_type`, `description`, ...), and a permission class keeps the field on
    strawberry's path."""

    def resolver(self: Any, info: StrawberryInfo) -> Any:
        return resolve(self, info.context)

    metadata = {**options.pop("metadata", {}), CONTEXT_RESOLVER: resolve}
    return strawberry.field(resolver=resolver, metadata=metadata, **options)
