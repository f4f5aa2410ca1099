"""Use cases of identity (SPEC T2): sign-in, invitations, user administration, API clients."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Permission, Principal, PrincipalKind, UserRole, may
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.identity import NewUser, check_password
from prism_domain.organisations import OrganisationKind
from prism_domain.text import clean_name
from prism_graph.access import visible_api_clients, visible_users
from prism_graph.database import Database
from prism_graph.identity.secrets import Passwords, new_token, same_hash, token_hash
from prism_graph.identity.throttle import LoginThrottle
from prism_platform.db import utcnow
from prism_tables.identity import (
    AccessToken,
    ApiClient,
    User,
    UserInvitation,
    UserStatus,
)
from prism_tables.organisations import Organisation

ACCESS_TOKEN_PREFIX = "prism_at"  # noqa: S105 - prefixes, not secrets
INVITATION_PREFIX = "prism_inv"
CLIENT_ID_PREFIX = "prism_ci"
CLIENT_SECRET_PREFIX = "prism_cs"  # noqa: S105

InvitationMailer = Callable[[AsyncSession, User, str, datetime, Principal | None], Awaitable[None]]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass
class IdentityConfig:
    passwords: Passwords
    throttle: LoginThrottle
    access_token_ttl: timedelta
    invitation_ttl: timedelta
    invitation_url: Callable[[str], str]
    send_invitation: InvitationMailer


def _errors(*items: tuple[str | None, ErrorCode, str]) -> list[FieldError]:
    return [FieldError(f, c, m) for f, c, m in items]


NOT_FOUND_USER = _errors(("id", ErrorCode.NOT_FOUND, "No such user."))


async def issue_token(
    session: AsyncSession,
    config: IdentityConfig,
    *,
    user_id: int | None = None,
    api_client_id: int | None = None,
) -> IssuedToken:
    token = new_token(ACCESS_TOKEN_PREFIX)
    expires_at = utcnow() + config.access_token_ttl
    session.add(
        AccessToken(
            token_hash=token_hash(token),
            principal_kind=PrincipalKind.USER if user_id else PrincipalKind.API_CLIENT,
            user_id=user_id,
            api_client_id=api_client_id,
            expires_at=expires_at,
        )
    )
    return IssuedToken(token, expires_at)


async def _revoke_tokens(session: AsyncSession, **where: int) -> None:
    column = AccessToken.user_id if "user_id" in where else AccessToken.api_client_id
    await session.execute(
        update(AccessToken)
        .where(column == next(iter(where.values())), AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


INVALID_LOGIN = _errors(
    (None, ErrorCode.INVALID_CREDENTIALS, "The e-mail address or password is not right.")
)


async def login(
    database: Database,
    config: IdentityConfig,
    *,
    email: str,
    password: str,
    address: str | None,
) -> tuple[IssuedToken, User] | list[FieldError]:
    import anyio

    email = (email or "").strip().lower()
    allowed = await anyio.to_thread.run_sync(config.throttle.allow, email, address)
    if not allowed:
        return _errors(
            (None, ErrorCode.THROTTLED, "Too many sign-in attempts; wait 15 minutes and retry.")
        )
    async with database.unit_of_work() as uow:
        user = await uow.session.scalar(select(User).where(User.email == email))
        # Verify even for an unknown address so both answers cost the same time.
        ok = await anyio.to_thread.run_sync(
            config.passwords.verify, user.password_hash if user else None, password or ""
        )
        if user is None or not ok or user.status is not UserStatus.ACTIVE:
            return INVALID_LOGIN
        if user.password_hash and config.passwords.needs_rehash(user.password_hash):
            user.password_hash = config.passwords.hash(password)
        user.last_login_at = utcnow()
        issued = await issue_token(uow.session, config, user_id=user.id)
        await uow.commit()
        return issued, user


async def logout(database: Database, principal: Principal) -> None:
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(AccessToken)
            .where(AccessToken.id == principal.token_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        await uow.commit()


async def _target_organisation(
    session: AsyncSession, principal: Principal, partner_id: int | None
) -> Organisation | list[FieldError]:
    """Where a new user or client belongs: the caller's partner, or for distributor staff
    the partner they name (or act for), or the distributor itself."""
    scope_partner = principal.partner_id
    wanted = partner_id if partner_id is not None else scope_partner
    if scope_partner is not None and wanted != scope_partner:
        return _errors(("partnerId", ErrorCode.NOT_FOUND, "No such partner."))
    if wanted is None:
        org = await session.get(Organisation, principal.organisation_id)
    else:
        org = await session.scalar(
            select(Organisation).where(
                Organisation.id == wanted, Organisation.kind == OrganisationKind.PARTNER
            )
        )
    if org is None:
        return _errors(("partnerId", ErrorCode.NOT_FOUND, "No such partner."))
    return org


async def invite_user(
    database: Database,
    config: IdentityConfig,
    principal: Principal,
    *,
    email: str,
    display_name: str,
    role: UserRole,
    partner_id: int | None = None,
) -> User | list[FieldError]:
    try:
        new = NewUser.parse(email=email, display_name=display_name, role=role)
    except DomainValidationError as exc:
        return exc.errors
    async with database.unit_of_work() as uow:
        org = await _target_organisation(uow.session, principal, partner_id)
        if isinstance(org, list):
            return org
        if await uow.session.scalar(select(User.id).where(User.email == new.email)):
            return _errors(
                ("email", ErrorCode.DUPLICATE, "A user with this e-mail already exists.")
            )
        user = User(
            organisation_id=org.id,
            email=new.email,
            display_name=new.display_name,
            role=new.role,
            status=UserStatus.INVITED,
        )
        uow.session.add(user)
        try:
            await uow.session.flush()
        except IntegrityError:
            return _errors(
                ("email", ErrorCode.DUPLICATE, "A user with this e-mail already exists.")
            )
        await _new_invitation(uow.session, config, user, principal)
        await uow.commit()
        return user


async def _new_invitation(
    session: AsyncSession, config: IdentityConfig, user: User, principal: Principal | None
) -> None:
    # A new invitation replaces the earlier ones: only the latest link works.
    await session.execute(
        update(UserInvitation)
        .where(UserInvitation.user_id == user.id, UserInvitation.used_at.is_(None))
        .values(used_at=utcnow())
    )
    token = new_token(INVITATION_PREFIX)
    expires_at = utcnow() + config.invitation_ttl
    by_user = principal is not None and principal.kind is PrincipalKind.USER
    session.add(
        UserInvitation(
            user_id=user.id,
            token_hash=token_hash(token),
            expires_at=expires_at,
            created_by_user_id=principal.id if by_user and principal else None,
        )
    )
    await config.send_invitation(session, user, config.invitation_url(token), expires_at, principal)


async def resend_invitation(
    database: Database, config: IdentityConfig, principal: Principal, user_id: int
) -> User | list[FieldError]:
    async with database.unit_of_work() as uow:
        user = await _visible_user(uow.session, principal, user_id)
        if user is None:
            return NOT_FOUND_USER
        if user.status is not UserStatus.INVITED:
            return _errors(("id", ErrorCode.CONFLICT, "This user has already accepted."))
        await _new_invitation(uow.session, config, user, principal)
        await uow.commit()
        return user


async def accept_invitation(
    database: Database, config: IdentityConfig, *, token: str, password: str
) -> tuple[IssuedToken, User] | list[FieldError]:
    import anyio

    async with database.unit_of_work() as uow:
        invitation = await uow.session.scalar(
            select(UserInvitation).where(UserInvitation.token_hash == token_hash(token or ""))
        )
        if invitation is None:
            return _errors(("token", ErrorCode.NOT_FOUND, "This invitation link is not valid."))
        if invitation.used_at is not None:
            return _errors(
                ("token", ErrorCode.ALREADY_USED, "This invitation link was used already.")
            )
        if invitation.expires_at <= utcnow():
            return _errors(
                ("token", ErrorCode.EXPIRED, "This invitation link has expired; ask for a new one.")
            )
        user = await uow.session.get(User, invitation.user_id)
        if user is None or user.status is not UserStatus.INVITED:
            return _errors(("token", ErrorCode.NOT_FOUND, "This invitation link is not valid."))
        problems = check_password(password, email=user.email)
        if problems:
            return problems
        user.password_hash = await anyio.to_thread.run_sync(config.passwords.hash, password)
        user.status = UserStatus.ACTIVE
        invitation.used_at = utcnow()
        issued = await issue_token(uow.session, config, user_id=user.id)
        await uow.commit()
        return issued, user


async def _visible_user(session: AsyncSession, principal: Principal, user_id: int) -> User | None:
    from prism_graph.access import scope_for

    return await session.scalar(
        select(User).where(User.id == user_id, visible_users(scope_for(principal)))
    )


async def _active_admins(session: AsyncSession, organisation_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.organisation_id == organisation_id,
                User.role == UserRole.ADMIN,
                User.status == UserStatus.ACTIVE,
            )
        )
        or 0
    )


async def set_user_status(
    database: Database, principal: Principal, user_id: int, *, active: bool
) -> User | list[FieldError]:
    async with database.unit_of_work() as uow:
        user = await _visible_user(uow.session, principal, user_id)
        if user is None:
            return NOT_FOUND_USER
        if not active:
            if principal.kind is PrincipalKind.USER and user.id == principal.id:
                return _errors(("id", ErrorCode.NOT_ALLOWED, "You cannot deactivate yourself."))
            if (
                user.role is UserRole.ADMIN
                and user.status is UserStatus.ACTIVE
                and (await _active_admins(uow.session, user.organisation_id) <= 1)
            ):
                return _errors(("id", ErrorCode.NOT_ALLOWED, "Keep at least one active admin."))
            if user.status is not UserStatus.DEACTIVATED:
                user.status = UserStatus.DEACTIVATED
                await _revoke_tokens(uow.session, user_id=user.id)
        elif user.status is UserStatus.DEACTIVATED:
            user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.INVITED
        await uow.commit()
        return user


async def set_user_role(
    database: Database, principal: Principal, user_id: int, role: UserRole
) -> User | list[FieldError]:
    async with database.unit_of_work() as uow:
        user = await _visible_user(uow.session, principal, user_id)
        if user is None:
            return NOT_FOUND_USER
        if (
            user.role is UserRole.ADMIN
            and role is not UserRole.ADMIN
            and user.status is UserStatus.ACTIVE
            and await _active_admins(uow.session, user.organisation_id) <= 1
        ):
            return _errors(("role", ErrorCode.NOT_ALLOWED, "Keep at least one active admin."))
        user.role = role
        await uow.commit()
        return user


async def change_password(
    database: Database, config: IdentityConfig, principal: Principal, *, current: str, new: str
) -> IssuedToken | list[FieldError]:
    import anyio

    if principal.kind is not PrincipalKind.USER:
        return _errors((None, ErrorCode.NOT_ALLOWED, "Only users have passwords."))
    async with database.unit_of_work() as uow:
        user = await uow.session.get(User, principal.id)
        assert user is not None
        ok = await anyio.to_thread.run_sync(
            config.passwords.verify, user.password_hash, current or ""
        )
        if not ok:
            return _errors(
                (
                    "currentPassword",
                    ErrorCode.INVALID_CREDENTIALS,
                    "The current password is not right.",
                )
            )
        problems = check_password(new, email=user.email, field="newPassword")
        if problems:
            return problems
        user.password_hash = await anyio.to_thread.run_sync(config.passwords.hash, new)
        await _revoke_tokens(uow.session, user_id=user.id)  # every session, this one too
        issued = await issue_token(uow.session, config, user_id=user.id)
        await uow.commit()
        return issued


@dataclass(frozen=True)
class NewClientCredentials:
    client: ApiClient
    secret: str


async def create_api_client(
    database: Database, principal: Principal, *, name: str, partner_id: int | None = None
) -> NewClientCredentials | list[FieldError]:
    errors: list[FieldError] = []
    clean = clean_name(name, field="name", label="Name", max_length=200, errors=errors)
    if errors:
        return errors
    async with database.unit_of_work() as uow:
        org = await _target_organisation(uow.session, principal, partner_id)
        if isinstance(org, list):
            return org
        if org.kind is not OrganisationKind.PARTNER:
            return _errors(
                ("partnerId", ErrorCode.REQUIRED, "API clients belong to a partner: name one.")
            )
        secret = new_token(CLIENT_SECRET_PREFIX)
        client = ApiClient(
            organisation_id=org.id,
            name=clean,
            client_id=f"{CLIENT_ID_PREFIX}_{secrets.token_hex(12)}",
            secret_hash=token_hash(secret),
            created_by_user_id=principal.id if principal.kind is PrincipalKind.USER else None,
        )
        uow.session.add(client)
        await uow.commit()
        return NewClientCredentials(client, secret)


async def revoke_api_client(
    database: Database, principal: Principal, client_pk: int
) -> ApiClient | list[FieldError]:
    from prism_graph.access import scope_for

    async with database.unit_of_work() as uow:
        client = await uow.session.scalar(
            select(ApiClient).where(
                ApiClient.id == client_pk, visible_api_clients(scope_for(principal))
            )
        )
        if client is None:
            return _errors(("id", ErrorCode.NOT_FOUND, "No such API client."))
        if client.revoked_at is None:
            client.revoked_at = utcnow()
            await _revoke_tokens(uow.session, api_client_id=client.id)
        await uow.commit()
        return client


async def token_for_client(
    database: Database, config: IdentityConfig, *, client_id: str, client_secret: str
) -> IssuedToken | None:
    """OAuth2 client credentials (RFC 6749 §4.4); None for any wrong credential."""
    async with database.unit_of_work() as uow:
        client = await uow.session.scalar(
            select(ApiClient).where(
                and_(ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None))
            )
        )
        presented = token_hash(client_secret)
        if client is None or not same_hash(client.secret_hash, presented):
            return None
        client.last_used_at = utcnow()
        issued = await issue_token(uow.session, config, api_client_id=client.id)
        await uow.commit()
        return issued


def can_manage_users(principal: Principal) -> bool:
    return may(principal, Permission.MANAGE_USERS)
