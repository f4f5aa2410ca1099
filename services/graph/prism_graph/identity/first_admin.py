"""A deployment's first distributor admin (SPEC T4), for the `prism first-admin` command.

No password is ever published: the admin is invited like any user (a single-use, expiring
link to set a password, mailed through the mail outbox and handed back to the operator), or
the operator types the password (read from a prompt or stdin, never from the command line).

Running it again with the same address creates nothing: an admin who has not accepted yet
gets a fresh link (the earlier one says it was replaced), an active admin is left as is. It
refuses what would not be a *first* admin: an address of a partner's user or of a distributor
user who is not an admin (or a deactivated one), and any other address once the distributor
has an active admin (further admins are invited through the API, `inviteUser`). Until then an
invitation to a mistyped address can be followed by one to the right address.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import anyio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, UserRole
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.identity import NewUser, check_password
from prism_domain.organisations import OrganisationKind
from prism_domain.text import clean_domain, clean_name
from prism_graph.database import Database
from prism_graph.identity.service import IdentityConfig
from prism_graph.identity.users import add_invited_user, new_invitation
from prism_platform.db import utcnow
from prism_tables.identity import User, UserInvitation, UserStatus
from prism_tables.organisations import Organisation


class Outcome(StrEnum):
    INVITED = "INVITED"  # a new admin, invited
    REINVITED = "REINVITED"  # the admin had not accepted: a fresh link
    ACTIVATED = "ACTIVATED"  # the password the operator typed is set
    ALREADY_ACTIVE = "ALREADY_ACTIVE"  # nothing to do


@dataclass(frozen=True)
class Invitation:
    link: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class FirstAdmin:
    outcome: Outcome
    email: str
    distributor: str
    distributor_created: bool
    invitation: Invitation | None = None


# Codes of a refusal the operator fixes by changing the command line (exit code 2); the
# others say the deployment is not in a state for a first admin (exit code 1).
USAGE_CODES = frozenset(
    {ErrorCode.REQUIRED, ErrorCode.INVALID, ErrorCode.TOO_LONG, ErrorCode.WEAK_PASSWORD}
)


async def ensure_first_admin(
    database: Database,
    config: IdentityConfig,
    *,
    email: str,
    display_name: str | None,
    distributor_name: str | None,
    distributor_domain: str | None,
    password: str | None = None,
) -> FirstAdmin | list[FieldError]:
    errors: list[FieldError] = []
    name = display_name if display_name is not None else email.partition("@")[0]
    new: NewUser | None = None
    try:
        new = NewUser.parse(email=email, display_name=name, role=UserRole.ADMIN)
    except DomainValidationError as exc:
        errors += exc.errors
    org_name = org_domain = None
    if distributor_name is not None:
        org_name = clean_name(
            distributor_name,
            field="distributor",
            label="The distributor's name",
            max_length=200,
            errors=errors,
        )
    if distributor_domain is not None:
        org_domain = clean_domain(distributor_domain, field="domain", errors=errors)
    if password is not None and new is not None:
        errors += check_password(password, email=new.email)
    if errors or new is None:
        return errors
    issued: list[Invitation] = []
    async with database.unit_of_work() as uow:
        session = uow.session
        distributor, created = await _distributor(session, org_name, org_domain)
        if distributor is None:
            return [
                FieldError(
                    "distributor",
                    ErrorCode.REQUIRED,
                    "There is no distributor yet: name it with --distributor (and --domain).",
                )
            ]
        capturing = _capturing(config, issued)
        user = await session.scalar(select(User).where(User.email == new.email))
        if user is None:
            refused = await _refuse_a_second_admin(session, distributor)
            if refused:
                return refused
            if password is None:
                added = await add_invited_user(session, capturing, None, distributor.id, new)
                if isinstance(added, list):
                    return added
                await uow.commit()
                return FirstAdmin(Outcome.INVITED, new.email, distributor.name, created, issued[-1])
            user = User(
                organisation_id=distributor.id,
                email=new.email,
                display_name=new.display_name,
                role=UserRole.ADMIN,
                status=UserStatus.INVITED,
            )
            session.add(user)
        else:
            refused = _refuse_this_user(user, distributor)
            if refused:
                return refused
            if user.status is UserStatus.ACTIVE:
                return FirstAdmin(Outcome.ALREADY_ACTIVE, user.email, distributor.name, created)
            refused = await _refuse_a_second_admin(session, distributor)
            if refused:
                return refused
            if password is None:
                await new_invitation(session, capturing, user, None)
                await uow.commit()
                return FirstAdmin(
                    Outcome.REINVITED, user.email, distributor.name, created, issued[-1]
                )
        # The operator typed the password: the admin is active at once, and a link mailed
        # earlier is used up.
        user.password_hash = await anyio.to_thread.run_sync(config.passwords.hash, password)
        user.status = UserStatus.ACTIVE
        await session.flush()
        await session.execute(
            update(UserInvitation)
            .where(UserInvitation.user_id == user.id, UserInvitation.used_at.is_(None))
            .values(used_at=utcnow())
        )
        await uow.commit()
        return FirstAdmin(Outcome.ACTIVATED, user.email, distributor.name, created)


async def _distributor(
    session: AsyncSession, name: str | None, domain: str | None
) -> tuple[Organisation | None, bool]:
    found = await session.scalar(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.DISTRIBUTOR)
        .order_by(Organisation.id)
        .limit(1)
        .with_for_update()
    )
    if found is not None or name is None:
        return found, False
    distributor = Organisation(kind=OrganisationKind.DISTRIBUTOR, name=name, domain=domain)
    session.add(distributor)
    await session.flush()
    return distributor, True


async def _refuse_a_second_admin(
    session: AsyncSession, distributor: Organisation
) -> list[FieldError]:
    active = await session.scalar(
        select(User.email).where(
            User.organisation_id == distributor.id,
            User.role == UserRole.ADMIN,
            User.status == UserStatus.ACTIVE,
        )
    )
    if active is None:
        return []
    return [
        FieldError(
            "email",
            ErrorCode.CONFLICT,
            f"{distributor.name} has an active admin already ({active}): they invite further "
            "admins through the API (inviteUser).",
        )
    ]


def _refuse_this_user(user: User, distributor: Organisation) -> list[FieldError]:
    if user.organisation_id != distributor.id:
        problem = "belongs to a partner's user"
    elif user.role is not UserRole.ADMIN:
        problem = "belongs to a distributor user who is not an admin (an admin can change that)"
    elif user.status is UserStatus.DEACTIVATED:
        problem = "belongs to a deactivated admin (an admin can reactivate them)"
    else:
        return []
    return [FieldError("email", ErrorCode.CONFLICT, f"{user.email} {problem}: nothing changed.")]


def _capturing(config: IdentityConfig, issued: list[Invitation]) -> IdentityConfig:
    """The identity configuration, also handing each invitation link back to the caller."""
    tokens: list[str] = []

    def url(token: str) -> str:
        tokens.append(token)
        return config.invitation_url(token)

    async def send(
        session: AsyncSession,
        user: User,
        link: str,
        expires_at: datetime,
        principal: Principal | None,
    ) -> None:
        await config.send_invitation(session, user, link, expires_at, principal)
        issued.append(Invitation(link, tokens[-1], expires_at))

    return dataclasses.replace(config, invitation_url=url, send_invitation=send)
