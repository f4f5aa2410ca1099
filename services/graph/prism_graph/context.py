from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.types import Info as StrawberryInfo

from prism_domain.access import Principal, Scope
from prism_graph.access import scope_for
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
