"""The GraphQL types of tenants (O1): a tenant, the input that creates one, its payload."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from prism_graph.catalogue.types import Program
from prism_graph.common.errors import UserError
from prism_graph.context import Info
from prism_tables.tenants import Tenant as TenantRow


@strawberry.type(description="A customer's account in one program, e.g. its CSP tenant (O1).")
class Tenant:
    id: strawberry.ID
    domain: str
    created_at: datetime
    program_id: strawberry.Private[int]

    @strawberry.field
    async def program(self, info: Info) -> Program | None:
        row = await info.context.loaders.program_by_id.load(self.program_id)
        return Program.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: TenantRow) -> Tenant:
        return cls(
            id=strawberry.ID(str(relay.GlobalID("Tenant", str(row.id)))),
            domain=row.domain,
            created_at=row.created_at,
            program_id=row.program_id,
        )


@strawberry.input
class CreateTenantInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer it belongs to.")
    program_id: relay.GlobalID
    domain: str = strawberry.field(description="e.g. contoso.onmicrosoft.com")


@strawberry.type
class TenantPayload:
    tenant: Tenant | None
    errors: list[UserError]
