"""Users and their invitations (SPEC T2): inviting a user (a single-use link to set a
password), sending a fresh link, accepting it, and an admin's deactivation, reactivation
and role changes (an organisation always keeps one active admin)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, PrincipalKind, UserRole
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.identity import NewUser, check_password
from prism_graph.access import visible_users
from prism_graph.database import Database
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.identity.service import (
    IdentityConfig,
    IssuedToken,
    field_errors,
    issue_token,
    revoke_tokens,
    target_organisation,
)
from prism_platform.db import utcnow
from prism_tables.identity import User, UserInvitation, UserStatus

INVITATION_PREFIX = "prism_inv"

NOT_FOUND_USER = field_errors(("id", ErrorCode.NOT_FOUND, "No such user."))


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
        org = await target_organisation(uow.session, principal, partner_id)
        if isinstance(org, list):
            return org
        user = await add_invited_user(uow.session, config, principal, org.id, new)
        if isinstance(user, list):
            return user
        await uow.commit()
        return user


def duplicate_email(field: str = "email") -> list[FieldError]:
    return field_errors((field, ErrorCode.DUPLICATE, "A user with this e-mail already exists."))


async def add_invited_user(
    session: AsyncSession,
    config: IdentityConfig,
    principal: Principal | None,
    organisation_id: int,
    new: NewUser,
    *,
    email_field: str = "email",
) -> User | list[FieldError]:
    """A new INVITED user of the organisation and its invitation mail, in the caller's
    transaction; an address any user has already is refused (errors on `email_field`)."""
    if await session.scalar(select(User.id).where(User.email == new.email)):
        return duplicate_email(email_field)
    user = User(
        organisation_id=organisation_id,
        email=new.email,
        display_name=new.display_name,
        role=new.role,
        status=UserStatus.INVITED,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent invitation took the address; the caller rolls back
        return duplicate_email(email_field)
    await new_invitation(session, config, user, principal)
    return user


async def new_invitation(
    session: AsyncSession, config: IdentityConfig, user: User, principal: Principal | None
) -> None:
    # A new invitation replaces the earlier ones: only the latest link works, and an earlier
    # one says it was replaced.
    now = utcnow()
    await session.execute(
        update(UserInvitation)
        .where(UserInvitation.user_id == user.id, UserInvitation.used_at.is_(None))
        .values(used_at=now, replaced_at=now)
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
            return field_errors(("id", ErrorCode.CONFLICT, "This user has already accepted."))
        await new_invitation(uow.session, config, user, principal)
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
            return field_errors(
                ("token", ErrorCode.NOT_FOUND, "This invitation link is not valid.")
            )
        if invitation.replaced_at is not None:
            return field_errors(
                (
                    "token",
                    ErrorCode.REPLACED,
                    "This invitation link was replaced by a newer one: use the link in the "
                    "latest invitation e-mail.",
                )
            )
        if invitation.used_at is not None:
            return field_errors(
                ("token", ErrorCode.ALREADY_USED, "This invitation link was used already.")
            )
        if invitation.expires_at <= utcnow():
            return field_errors(
                ("token", ErrorCode.EXPIRED, "This invitation link has expired; ask for a new one.")
            )
        user = await uow.session.get(User, invitation.user_id)
        if user is None or user.status is not UserStatus.INVITED:
            return field_errors(
                ("token", ErrorCode.NOT_FOUND, "This invitation link is not valid.")
            )
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
                return field_errors(
                    ("id", ErrorCode.NOT_ALLOWED, "You cannot deactivate yourself.")
                )
            if (
                user.role is UserRole.ADMIN
                and user.status is UserStatus.ACTIVE
                and (await _active_admins(uow.session, user.organisation_id) <= 1)
            ):
                return field_errors(
                    ("id", ErrorCode.NOT_ALLOWED, "Keep at least one active admin.")
                )
            if user.status is not UserStatus.DEACTIVATED:
                user.status = UserStatus.DEACTIVATED
                await revoke_tokens(uow.session, user_id=user.id)
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
            return field_errors(("role", ErrorCode.NOT_ALLOWED, "Keep at least one active admin."))
        user.role = role
        await uow.commit()
        return user
