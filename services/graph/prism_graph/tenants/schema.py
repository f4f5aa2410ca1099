"""Tenant mutations (O1): a tenant is created under an existing customer."""

from __future__ import annotations

import strawberry

from prism_domain.access import Permission
from prism_graph.access import requires
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.context import Info
from prism_graph.tenants import service
from prism_graph.tenants.types import CreateTenantInput, Tenant, TenantPayload


@strawberry.type
class TenantMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Add a customer's tenant in a program (its domain unique per program).",
    )
    async def create_tenant(self, info: Info, input: CreateTenantInput) -> TenantPayload:
        result = await service.create_tenant(
            info.context.database,
            info.context.scope,
            customer_id=node_pk(input.customer_id, "Customer"),
            program_id=node_pk(input.program_id, "Program"),
            domain=input.domain,
        )
        if isinstance(result, list):
            return TenantPayload(tenant=None, errors=user_errors(result))
        return TenantPayload(tenant=Tenant.from_model(result), errors=[])
