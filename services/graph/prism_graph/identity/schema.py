"""Identity in GraphQL (SPEC T2): the root fields for sign-in, `me`, users, invitations and
API clients. Their types are `types.py`, `inputs.py` and `payloads.py`; the use cases
`service` (sign-in, tokens), `users` (users, invitations) and `api_clients`."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import or_, select
from strawberry import relay

from prism_domain.access import Permission, permissions_of
from prism_domain.access import PrincipalKind as DomainPrincipalKind
from prism_domain.errors import ErrorCode, FieldError
from prism_graph.access import authenticated, public, requires, visible_api_clients, visible_users
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.context import Info
from prism_graph.identity import api_clients, service, users
from prism_graph.identity.inputs import (
    AcceptInvitationInput,
    ChangePasswordInput,
    CreateApiClientInput,
    DeactivateUserInput,
    InviteUserInput,
    ReactivateUserInput,
    ResendInvitationInput,
    RevokeApiClientInput,
    SetUserRoleInput,
    SignInInput,
)
from prism_graph.identity.payloads import (
    ApiClientPayload,
    ChangePasswordPayload,
    CreateApiClientPayload,
    LogoutPayload,
    SignInPayload,
    UserPayload,
)
from prism_graph.identity.types import ApiClient, Me, User, UserConnection
from prism_graph.organisations.types import Organisation
from prism_tables import identity as models


def partner_arg(value: relay.GlobalID | None) -> int | list[FieldError] | None:
    """A partner's Organisation id from an input (None: not given)."""
    if value is None:
        return None
    pk = node_pk(value, "Organisation")
    if pk < 0:
        return [FieldError("partnerId", ErrorCode.NOT_FOUND, "No such partner.")]
    return pk


@strawberry.type
class IdentityQueries:
    @strawberry.field(
        permission_classes=[authenticated()],
        description="The caller: who they are and what they may do.",
    )
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
        description="Users of the caller's partner (all users for distributor staff), by "
        "e-mail address.",
    )
    async def users(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only users whose e-mail address or name contains this text (any "
                "letter case).",
            ),
        ] = None,
        organisation_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(
                description="Only the users of this organisation (distributor staff: the "
                "distributor or one partner); an organisation you cannot see gives an empty page.",
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> UserConnection:
        stmt = select(models.User).where(visible_users(info.context.scope))
        text = (search or "").strip().lower()
        if text:
            pattern = f"%{text.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(
                or_(models.User.email.like(pattern), models.User.display_name.ilike(pattern))
            )
        if organisation_id is not None:
            stmt = stmt.where(
                models.User.organisation_id == node_pk(organisation_id, "Organisation")
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
        return connection(UserConnection, page, User.from_model, filtered=stmt)

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_API_CLIENTS)],
        description="The partner's API clients, newest first, at most 200 (secrets are "
        "never returned).",
    )
    async def api_clients(
        self,
        info: Info,
        include_revoked: Annotated[
            bool, strawberry.argument(description="Also list revoked credentials.")
        ] = False,
    ) -> list[ApiClient]:
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
            access_token=None, expires_at=None, user=None, errors=user_errors(result)
        )
    issued, user = result
    return SignInPayload(
        access_token=issued.token,
        expires_at=issued.expires_at,
        user=User.from_model(user),
        errors=[],
    )


def user_payload(result: models.User | list[FieldError]) -> UserPayload:
    if isinstance(result, list):
        return UserPayload(user=None, errors=user_errors(result))
    return UserPayload(user=User.from_model(result), errors=[])


@strawberry.type
class IdentityMutations:
    @strawberry.mutation(
        permission_classes=[public()],
        description="Sign in with e-mail and password. A wrong password and an unknown "
        "address get the same answer (INVALID_CREDENTIALS); too many attempts are THROTTLED.",
    )
    async def sign_in(
        self,
        info: Info,
        input: Annotated[
            SignInInput,
            strawberry.argument(description="An e-mail address and password to sign in with."),
        ],
    ) -> SignInPayload:
        ctx = info.context
        result = await service.login(
            ctx.database,
            ctx.identity,
            email=input.email,
            password=input.password,
            address=ctx.client_address,
        )
        return _signed_in(result)

    @strawberry.mutation(
        permission_classes=[authenticated()],
        description="Sign out: the access token of this request stops working.",
    )
    async def sign_out(self, info: Info) -> LogoutPayload:
        assert info.context.principal is not None
        await service.logout(info.context.database, info.context.principal)
        return LogoutPayload(errors=[])

    @strawberry.mutation(
        permission_classes=[public()],
        description="Set a password through an invitation link's token, and sign in. A link "
        "works once; one replaced by a newer invitation is refused as REPLACED.",
    )
    async def accept_invitation(
        self,
        info: Info,
        input: Annotated[
            AcceptInvitationInput,
            strawberry.argument(
                description="The token of an invitation link and the password to set."
            ),
        ],
    ) -> SignInPayload:
        result = await users.accept_invitation(
            info.context.database,
            info.context.identity,
            token=input.token,
            password=input.password,
        )
        return _signed_in(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Invite a user: they get an e-mail with a single-use link to set a password.",
    )
    async def invite_user(
        self,
        info: Info,
        input: Annotated[
            InviteUserInput,
            strawberry.argument(description="Who to invite into the staff of an organisation."),
        ],
    ) -> UserPayload:
        partner = partner_arg(input.partner_id)
        if isinstance(partner, list):
            return user_payload(partner)
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
        return user_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Send an invited user a fresh invitation link; earlier links stop working "
        "and say they were replaced.",
    )
    async def resend_invitation(
        self,
        info: Info,
        input: Annotated[
            ResendInvitationInput,
            strawberry.argument(description="The invited user to send a fresh invitation link to."),
        ],
    ) -> UserPayload:
        assert info.context.principal is not None
        result = await users.resend_invitation(
            info.context.database,
            info.context.identity,
            info.context.principal,
            node_pk(input.id, "User"),
        )
        return user_payload(result)

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Deactivate a user: their sessions end at once. Never yourself, nor the "
        "organisation's last active admin.",
    )
    async def deactivate_user(
        self,
        info: Info,
        input: Annotated[
            DeactivateUserInput, strawberry.argument(description="The user to deactivate.")
        ],
    ) -> UserPayload:
        assert info.context.principal is not None
        return user_payload(
            await users.set_user_status(
                info.context.database,
                info.context.principal,
                node_pk(input.id, "User"),
                active=False,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Let a deactivated user back in (as active, or as invited when they never "
        "set a password).",
    )
    async def reactivate_user(
        self,
        info: Info,
        input: Annotated[
            ReactivateUserInput,
            strawberry.argument(description="The deactivated user to let back in."),
        ],
    ) -> UserPayload:
        assert info.context.principal is not None
        return user_payload(
            await users.set_user_status(
                info.context.database,
                info.context.principal,
                node_pk(input.id, "User"),
                active=True,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_USERS)],
        description="Change a user's role; the organisation keeps at least one active admin.",
    )
    async def set_user_role(
        self,
        info: Info,
        input: Annotated[
            SetUserRoleInput, strawberry.argument(description="A user and the role to give them.")
        ],
    ) -> UserPayload:
        assert info.context.principal is not None
        return user_payload(
            await users.set_user_role(
                info.context.database,
                info.context.principal,
                node_pk(input.id, "User"),
                input.role,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_OWN_ACCOUNT)],
        description="Change your password; every session is signed out and a new token issued.",
    )
    async def change_password(
        self,
        info: Info,
        input: Annotated[
            ChangePasswordInput,
            strawberry.argument(description="The current password and the one to replace it."),
        ],
    ) -> ChangePasswordPayload:
        assert info.context.principal is not None
        result = await service.change_password(
            info.context.database,
            info.context.identity,
            info.context.principal,
            current=input.current_password,
            new=input.new_password,
        )
        if isinstance(result, list):
            return ChangePasswordPayload(
                access_token=None, expires_at=None, errors=user_errors(result)
            )
        return ChangePasswordPayload(
            access_token=result.token, expires_at=result.expires_at, errors=[]
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_API_CLIENTS)],
        description='"Generate new credentials": a client id and a secret shown only once.',
    )
    async def create_api_client(
        self,
        info: Info,
        input: Annotated[
            CreateApiClientInput,
            strawberry.argument(
                description="What to call new API credentials, and whose they are."
            ),
        ],
    ) -> CreateApiClientPayload:
        partner = partner_arg(input.partner_id)
        if isinstance(partner, list):
            return CreateApiClientPayload(
                api_client=None, client_secret=None, errors=user_errors(partner)
            )
        assert info.context.principal is not None
        result = await api_clients.create_api_client(
            info.context.database, info.context.principal, name=input.name, partner_id=partner
        )
        if isinstance(result, list):
            return CreateApiClientPayload(
                api_client=None, client_secret=None, errors=user_errors(result)
            )
        return CreateApiClientPayload(
            api_client=ApiClient.from_model(result.client), client_secret=result.secret, errors=[]
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_API_CLIENTS)],
        description="Revoke an API client; its tokens stop working at once.",
    )
    async def revoke_api_client(
        self,
        info: Info,
        input: Annotated[
            RevokeApiClientInput, strawberry.argument(description="The API client to revoke.")
        ],
    ) -> ApiClientPayload:
        assert info.context.principal is not None
        result = await api_clients.revoke_api_client(
            info.context.database, info.context.principal, node_pk(input.id, "ApiClient")
        )
        if isinstance(result, list):
            return ApiClientPayload(api_client=None, errors=user_errors(result))
        return ApiClientPayload(api_client=ApiClient.from_model(result), errors=[])
