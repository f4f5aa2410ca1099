from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info as StrawberryInfo

from prism_domain.access import Principal, Scope
from prism_graph.access import scope_for
from prism_graph.common.fast_execution import CONTEXT_RESOLVER
from prism_graph.database import Database, RequestReader
from prism_graph.loaders import Loaders

if TYPE_CHECKING:
    from prism_graph.identity.service import IdentityConfig


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
    extra: dict[str, Any] = field(default_factory=dict)

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
