"""Tenant mutations (O1): a tenant is created under an existing customer, its domain can be
corrected, and it can be removed (`service.py` says when not)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import FieldError
from prism_graph.access import requires
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.context import Info
from prism_graph.tenants import service
from prism_graph.tenants.types import (
    CreateTenantInput,
    RemoveTenantInput,
    RemoveTenantPayload,
    Tenant,
    TenantPayload,
    UpdateTenantInput,
)
from prism_tables.tenants import Tenant as TenantRow


def _payload(result: TenantRow | list[FieldError]) -> TenantPayload:
    if isinstance(result, list):
        return TenantPayload(tenant=None, errors=user_errors(result))
    return TenantPayload(tenant=Tenant.from_model(result), errors=[])


@strawberry.type
class TenantMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Add a customer's tenant in a program (its domain unique per program; "
        "not in a retired program).",
    )
    async def create_tenant(
        self,
        info: Info,
        input: Annotated[
            CreateTenantInput,
            strawberry.argument(description="A new tenant of an existing customer."),
        ],
    ) -> TenantPayload:
        return _payload(
            await service.create_tenant(
                info.context.database,
                info.context.scope,
                customer_id=node_pk(input.customer_id, "Customer"),
                program_id=node_pk(input.program_id, "Program"),
                domain=input.domain,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Correct a tenant's domain; its customer and program stay.",
    )
    async def update_tenant(
        self,
        info: Info,
        input: Annotated[
            UpdateTenantInput, strawberry.argument(description="A tenant's corrected domain.")
        ],
    ) -> TenantPayload:
        return _payload(
            await service.update_tenant(
                info.context.database,
                info.context.scope,
                node_pk(input.id, "Tenant"),
                domain=input.domain,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Remove a tenant. Refused (NOT_ALLOWED) while it is the customer's last "
        "tenant in a program it still has subscriptions in that are not cancelled.",
    )
    async def remove_tenant(
        self,
        info: Info,
        input: Annotated[
            RemoveTenantInput, strawberry.argument(description="The tenant to remove.")
        ],
    ) -> RemoveTenantPayload:
        result = await service.remove_tenant(
            info.context.database, info.context.scope, node_pk(input.id, "Tenant")
        )
        if isinstance(result, list):
            return RemoveTenantPayload(removed_id=None, errors=user_errors(result))
        return RemoveTenantPayload(
            removed_id=strawberry.ID(str(relay.GlobalID("Tenant", str(result)))), errors=[]
        )
