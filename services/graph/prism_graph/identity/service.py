"""Identity's core (SPEC T2): the configuration every identity use case takes, bearer tokens
(issued and revoked), signing in and out, and changing one's password.

Users and invitations are `users`, API clients and their client-credentials tokens
`api_clients`; both build on the helpers here (`field_errors`, `issue_token`,
`revoke_tokens`, `target_organisation`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, PrincipalKind
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.identity import check_password
from prism_domain.organisations import OrganisationKind
from prism_graph.database import Database
from prism_graph.identity.secrets import Passwords, new_token, token_hash
from prism_graph.identity.throttle import LoginThrottle
from prism_platform.db import utcnow
from prism_tables.identity import AccessToken, User, UserStatus
from prism_tables.organisations import Organisation

ACCESS_TOKEN_PREFIX = "prism_at"  # noqa: S105 - a prefix, not a secret

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


def field_errors(*items: tuple[str | None, ErrorCode, str]) -> list[FieldError]:
    return [FieldError(f, c, m) for f, c, m in items]


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


async def revoke_tokens(session: AsyncSession, **where: int) -> None:
    column = AccessToken.user_id if "user_id" in where else AccessToken.api_client_id
    await session.execute(
        update(AccessToken)
        .where(column == next(iter(where.values())), AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def target_organisation(
    session: AsyncSession, principal: Principal, partner_id: int | None
) -> Organisation | list[FieldError]:
    """Where a new user or client belongs: the caller's partner, or for distributor staff
    the partner they name (or act for), or the distributor itself."""
    scope_partner = principal.partner_id
    wanted = partner_id if partner_id is not None else scope_partner
    if scope_partner is not None and wanted != scope_partner:
        return field_errors(("partnerId", ErrorCode.NOT_FOUND, "No such partner."))
    if wanted is None:
        org = await session.get(Organisation, principal.organisation_id)
    else:
        org = await session.scalar(
            select(Organisation).where(
                Organisation.id == wanted, Organisation.kind == OrganisationKind.PARTNER
            )
        )
    if org is None:
        return field_errors(("partnerId", ErrorCode.NOT_FOUND, "No such partner."))
    return org


INVALID_LOGIN = field_errors(
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
        return field_errors(
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


async def change_password(
    database: Database, config: IdentityConfig, principal: Principal, *, current: str, new: str
) -> IssuedToken | list[FieldError]:
    import anyio

    if principal.kind is not PrincipalKind.USER:
        return field_errors((None, ErrorCode.NOT_ALLOWED, "Only users have passwords."))
    async with database.unit_of_work() as uow:
        user = await uow.session.get(User, principal.id)
        assert user is not None
        ok = await anyio.to_thread.run_sync(
            config.passwords.verify, user.password_hash, current or ""
        )
        if not ok:
            return field_errors(
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
        await revoke_tokens(uow.session, user_id=user.id)  # every session, this one too
        issued = await issue_token(uow.session, config, user_id=user.id)
        await uow.commit()
        return issued
