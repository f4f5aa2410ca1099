"""Identity in GraphQL (SPEC T2): the root fields for sign-in, `me`, users, invitations and
API clients. Their types are `types.py`; the use cases `service` (sign-in, tokens),
`users` (users, invitations) and `api_clients`."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import or_, select
from strawberry import relay

from prism_domain.access import Permission, permissions_of
from prism_domain.access import PrincipalKind as DomainPrincipalKind
from prism_domain.errors import ErrorCode, FieldError
from prism_graph.access import authenticated, public, requires, visible_api_clients, visible_users
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import Page, SortKey, connection, paginate
from prism_graph.context import Info
from prism_graph.identity import api_clients, service, users
from prism_graph.identity.types import (
    ApiClient,
    ApiClientPayload,
    ChangePasswordPayload,
    CreateApiClientPayload,
    InviteUserInput,
    LogoutPayload,
    Me,
    SignInPayload,
    User,
    UserConnection,
    UserPayload,
    UserRole,
)
from prism_graph.organisations.types import Organisation
from prism_tables import identity as models


def _partner_arg(value: relay.GlobalID | None) -> int | list[FieldError] | None:
    if value is None:
        return None
    pk = node_pk(value, "Organisation")
    if pk < 0:
        return [FieldError("partnerId", ErrorCode.NOT_FOUND, "No such partner.")]
    return pk


@strawberry.type
class IdentityQueries:
    @strawberry.field(permission_classes=[authenticated()], description="The caller.")
    async def me(self, info: Info) -> Me:
        principal = info.context.principal
        assert principal is not None
        user = None
        if principal.kind is DomainPrincipalKind.USER:
            row = await info.context.loaders.user_by_id.load(principal.id)
            user = User.from_model(row) if row else None
        org = None
        if principal.organisation_id is not None:
            org_row = await info.context.loaders.organisation_by_id.load(principal.organisation_id)
            org = Organisation.from_model(org_row) if org_row else None
        acting = None
        if principal.acting_for_partner_id is not None:
            acting_row = await info.context.loaders.organisation_by_id.load(
                principal.acting_for_partner_id
            )
            acting = Organisation.from_model(acting_row) if acting_row else None
        return Me(
            kind=principal.kind,
            label=principal.label,
            permissions=sorted(permissions_of(principal)),
            applications=sorted(principal.applications()),
            acting_for=acting,
            user=user,
            organisation=org,
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Users of the caller's partner (all users for distributor staff).",
    )
    async def users(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> UserConnection:
        stmt = select(models.User).where(visible_users(info.context.scope))
        text = (search or "").strip().lower()
        if text:
            pattern = f"%{text.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(
                or_(models.User.email.like(pattern), models.User.display_name.ilike(pattern))
            )
        page: Page[models.User] = await paginate(
            info.context.reader.scalars,
            stmt,
            SortKey((models.User.email, models.User.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(UserConnection, page, User.from_model)

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_API_CLIENTS)],
        description="The partner's API clients, newest first (secrets are never returned).",
    )
    async def api_clients(self, info: Info, include_revoked: bool = False) -> list[ApiClient]:
        stmt = select(models.ApiClient).where(visible_api_clients(info.context.scope))
        if not include_revoked:
            stmt = stmt.where(models.ApiClient.revoked_at.is_(None))
        rows = await info.context.reader.scalars(
            stmt.order_by(models.ApiClient.created_at.desc(), models.ApiClient.id.desc()).limit(200)
        )
        return [ApiClient.from_model(r) for r in rows]


def _signed_in(result: Any) -> SignInPayload:
    if isinstance(result, list):
        return SignInPayload(
            access_token=None, expires_at=None, user=None, errors=user_errors(result, None)
        )
    issued, user = result
    return SignInPayload(
        access_token=issued.token,
        expires_at=issued.expires_at,
        user=User.from_model(user),
        errors=[],
    )


def _user_payload(result: models.User | list[FieldError], prefix: str | None = None) -> UserPayload:
    """`prefix`: "input" for mutations taking an input object, else errors name the argument."""
    if isinstance(result, list):
        return UserPayload(user=None, errors=user_errors(result, prefix))
    return UserPayload(user=User.from_model(result), errors=[])


@strawberry.type
class IdentityMutations:
    @strawberry.mutation(
        permission_classes=[public()], description="Sign in with e-mail and password."
    )
    async def sign_in(self, info: Info, email: str, password: str) -> SignInPayload:
        ctx = info.context
        result = await service.login(
            ctx.database,
            ctx.identity,
            email=email,
            password=password,
            address=ctx.client_address,
        )
        return _signed_in(result)

    @strawberry.mutation(permission_classes=[authenticated()], description="Revoke this token.")
    async def sign_out(self, info: Info) -> LogoutPayload:
        assert info.context.principal is not None
        await service.logout(info.context.database, info.context.principal)
        return LogoutPayload(errors=[])

    @strawberry.mutation(
        permission_classes=[public()],
        description="Set a password through an invitation link's token, and sign in.",
    )
    async def accept_invitation(self, info: Info, token: str, password: str) -> SignInPayload:
        result = await users.accept_invitation(
            info.context.database, info.context.identity, token=token, password=password
        )
        return _signed_in(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Invite a user: they get an e-mail with a single-use link to set a password.",
    )
    async def invite_user(self, info: Info, input: InviteUserInput) -> UserPayload:
        partner = _partner_arg(input.partner_id)
        if isinstance(partner, list):
            return _user_payload(partner, "input")
        assert info.context.principal is not None
        result = await users.invite_user(
            info.context.database,
            info.context.identity,
            info.context.principal,
            email=input.email,
            display_name=input.display_name,
            role=input.role,
            partner_id=partner,
        )
        return _user_payload(result, "input")

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Send a fresh invitation link; earlier links stop working.",
    )
    async def resend_invitation(self, info: Info, id: relay.GlobalID) -> UserPayload:
        assert info.context.principal is not None
        result = await users.resend_invitation(
            info.context.database,
            info.context.identity,
            info.context.principal,
            node_pk(id, "User"),
        )
        return _user_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Deactivate a user: their sessions end at once.",
    )
    async def deactivate_user(self, info: Info, id: relay.GlobalID) -> UserPayload:
        assert info.context.principal is not None
        return _user_payload(
            await users.set_user_status(
                info.context.database, info.context.principal, node_pk(id, "User"), active=False
            )
        )

    @strawberry.mutation(permission_classes=[requires(Permission.MANAGE_USERS)])
    async def reactivate_user(self, info: Info, id: relay.GlobalID) -> UserPayload:
        assert info.context.principal is not None
        return _user_payload(
            await users.set_user_status(
                info.context.database, info.context.principal, node_pk(id, "User"), active=True
            )
        )

    @strawberry.mutation(permission_classes=[requires(Permission.MANAGE_USERS)])
    async def set_user_role(self, info: Info, id: relay.GlobalID, role: UserRole) -> UserPayload:  # type: ignore[valid-type]
        assert info.context.principal is not None
        return _user_payload(
            await users.set_user_role(
                info.context.database, info.context.principal, node_pk(id, "User"), role
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_OWN_ACCOUNT)],
        description="Change your password; every session is signed out and a new token issued.",
    )
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> ChangePasswordPayload:
        assert info.context.principal is not None
        result = await service.change_password(
            info.context.database,
            info.context.identity,
            info.context.principal,
            current=current_password,
            new=new_password,
        )
        if isinstance(result, list):
            return ChangePasswordPayload(
                access_token=None, expires_at=None, errors=user_errors(result, None)
            )
        return ChangePasswordPayload(
            access_token=result.token, expires_at=result.expires_at, errors=[]
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_API_CLIENTS)],
        description='"Generate new credentials": a client id and a secret shown only once.',
    )
    async def create_api_client(
        self, info: Info, name: str, partner_id: relay.GlobalID | None = None
    ) -> CreateApiClientPayload:
        partner = _partner_arg(partner_id)
        if isinstance(partner, list):
            return CreateApiClientPayload(
                api_client=None, client_secret=None, errors=user_errors(partner, None)
            )
        assert info.context.principal is not None
        result = await api_clients.create_api_client(
            info.context.database, info.context.principal, name=name, partner_id=partner
        )
        if isinstance(result, list):
            return CreateApiClientPayload(
                api_client=None, client_secret=None, errors=user_errors(result, None)
            )
        return CreateApiClientPayload(
            api_client=ApiClient.from_model(result.client), client_secret=result.secret, errors=[]
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_API_CLIENTS)],
        description="Revoke an API client; its tokens stop working at once.",
    )
    async def revoke_api_client(self, info: Info, id: relay.GlobalID) -> ApiClientPayload:
        assert info.context.principal is not None
        result = await api_clients.revoke_api_client(
            info.context.database, info.context.principal, node_pk(id, "ApiClient")
        )
        if isinstance(result, list):
            return ApiClientPayload(api_client=None, errors=user_errors(result, None))
        return ApiClientPayload(api_client=ApiClient.from_model(result), errors=[])
