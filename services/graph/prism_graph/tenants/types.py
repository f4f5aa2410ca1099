"""The GraphQL types of tenants (O1): a tenant, the inputs of its mutations, their payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from prism_graph.catalogue.types import Program
from prism_graph.common.errors import UserError, errors_field
from prism_graph.context import Info
from prism_tables.tenants import Tenant as TenantRow


@strawberry.type(
    description="A customer's account in one program, e.g. its Microsoft CSP tenant domain."
)
class Tenant:
    id: strawberry.ID = strawberry.field(
        description="The tenant's id, for `updateTenant` and `removeTenant`."
    )
    domain: str = strawberry.field(
        description="The tenant's domain in the program, e.g. contoso.onmicrosoft.com; unique "
        "within the program."
    )
    created_at: datetime = strawberry.field(description="When the tenant was added.")
    program_id: strawberry.Private[int]

    @strawberry.field(description="The program the tenant is in.")
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


@strawberry.input(description="A new tenant of an existing customer.")
class CreateTenantInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer it belongs to.")
    program_id: relay.GlobalID = strawberry.field(description="The program it is in (not retired).")
    domain: str = strawberry.field(
        description="e.g. contoso.onmicrosoft.com; unique within the program."
    )


@strawberry.input(description="A tenant's corrected domain.")
class UpdateTenantInput:
    id: relay.GlobalID = strawberry.field(description="The tenant's id.")
    domain: str = strawberry.field(
        description="The new domain; unique within the tenant's program."
    )


@strawberry.input(description="The tenant to remove.")
class RemoveTenantInput:
    id: relay.GlobalID = strawberry.field(description="The tenant's id.")


@strawberry.type(description="The outcome of a change to a tenant.")
class TenantPayload:
    tenant: Tenant | None = strawberry.field(
        description="The tenant as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of removing a tenant.")
class RemoveTenantPayload:
    removed_id: strawberry.ID | None = strawberry.field(
        description="The id of the removed tenant; null when refused."
    )
    errors: list[UserError] = errors_field()
