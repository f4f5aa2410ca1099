"""Identity's GraphQL types (SPEC T2): users, API clients, the caller (`Me`), their enums,
the payloads of the identity mutations and the invitation input."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.access import Application as DomainApplication
from prism_domain.access import Permission
from prism_domain.access import PrincipalKind as DomainPrincipalKind
from prism_domain.access import UserRole as DomainUserRole
from prism_graph.common.errors import UserError
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.organisations.types import Organisation
from prism_tables import identity as models

UserRole = strawberry.enum(DomainUserRole, name="UserRole")
UserStatus = strawberry.enum(models.UserStatus, name="UserStatus")
PrincipalKind = strawberry.enum(DomainPrincipalKind, name="PrincipalKind")
Application = strawberry.enum(
    DomainApplication, name="Application", description="Customer-account applications (R7)."
)
PermissionEnum = strawberry.enum(Permission, name="Permission")


@strawberry.type(description="A member of the distributor's or a partner's staff.")
class User(relay.Node):
    id: relay.NodeID[int]
    email: str
    display_name: str
    role: UserRole  # type: ignore[valid-type]
    status: UserStatus  # type: ignore[valid-type]
    created_at: datetime
    last_login_at: datetime | None
    organisation_id: strawberry.Private[int]

    @strawberry.field
    async def organisation(self, info: Info) -> Organisation | None:
        row = await info.context.loaders.organisation_by_id.load(self.organisation_id)
        return Organisation.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=row.role,
            status=row.status,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            organisation_id=row.organisation_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[User | None]:
        return await load_nodes(info.context.loaders.user_by_id, node_ids, cls.from_model)


@strawberry.type(description="A partner's machine credentials (the secret is never shown again).")
class ApiClient(relay.Node):
    id: relay.NodeID[int]
    name: str
    client_id: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, row: models.ApiClient) -> ApiClient:
        return cls(
            id=row.id,
            name=row.name,
            client_id=row.client_id,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[ApiClient | None]:
        return await load_nodes(info.context.loaders.api_client_by_id, node_ids, cls.from_model)


@strawberry.type(description="Who is calling, and what they may do.")
class Me:
    kind: PrincipalKind  # type: ignore[valid-type]
    label: str
    permissions: list[PermissionEnum]  # type: ignore[valid-type]
    applications: list[Application] = strawberry.field(  # type: ignore[valid-type]
        description="R7: the applications a customer-account contact may open (empty for staff)."
    )
    acting_for: Organisation | None
    user: User | None
    organisation: Organisation | None


@strawberry.type(description="A page of users.")
class UserConnection(relay.Connection[User]):
    pass


@strawberry.type
class SignInPayload:
    access_token: str | None = strawberry.field(
        description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None
    user: User | None
    errors: list[UserError]


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class ChangePasswordPayload:
    access_token: str | None = strawberry.field(
        description="A new token: every earlier session, this one too, has been signed out."
    )
    expires_at: datetime | None
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    errors: list[UserError]


@strawberry.type
class CreateApiClientPayload:
    api_client: ApiClient | None
    client_secret: str | None = strawberry.field(
        description="Shown once, now: store it. Prism keeps only a hash."
    )
    errors: list[UserError]


@strawberry.type
class ApiClientPayload:
    api_client: ApiClient | None
    errors: list[UserError]


@strawberry.input
class InviteUserInput:
    email: str
    display_name: str
    role: UserRole = DomainUserRole.MEMBER  # type: ignore[valid-type]
    partner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Distributor staff only: the partner to invite into."
    )
