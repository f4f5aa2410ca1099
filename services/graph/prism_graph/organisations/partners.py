"""Onboarding partners (SPEC T1, T4): the distributor's admins create a partner and invite
its first admin in one step.

Only the distributor's own scope onboards: distributor staff acting for a partner work as
that partner, and a partner's staff never reach this (the policy layer refuses them). A
partner's name and domain are unique among partners (names in any letter case), and the
admin's address must not belong to any user yet. Creations take turns on the distributor's
row, so two concurrent requests for the same name cannot both pass the check. The admin is
invited like any user: an e-mail with a single-use link to set a password (`identity.users`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from prism_domain.access import Principal, Scope, UserRole
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.identity import NewUser
from prism_domain.organisations import OrganisationKind, parse_time_zone
from prism_domain.text import clean_domain, clean_name
from prism_graph.database import Database
from prism_graph.identity.service import IdentityConfig
from prism_graph.identity.users import add_invited_user
from prism_tables.identity import User
from prism_tables.organisations import Organisation

NAME_MAX_LENGTH = 200


@dataclass(frozen=True)
class NewPartner:
    name: str
    domain: str
    time_zone: str | None
    admin: NewUser


@dataclass(frozen=True)
class OnboardedPartner:
    partner: Organisation
    admin: User


def parse_partner(
    *,
    name: str | None,
    domain: str | None,
    time_zone: str | None,
    admin_email: str | None,
    admin_name: str | None,
) -> NewPartner | list[FieldError]:
    errors: list[FieldError] = []
    clean = clean_name(
        name, field="name", label="Partner name", max_length=NAME_MAX_LENGTH, errors=errors
    )
    domain_text = clean_domain(domain, field="domain", errors=errors)
    if domain_text is None and not any(e.field == "domain" for e in errors):
        errors.append(
            FieldError(
                "domain",
                ErrorCode.REQUIRED,
                "The partner's domain is required: its customers' primary and billing "
                "contacts have addresses on it.",
            )
        )
    zone = None
    if time_zone is not None:
        parsed = parse_time_zone(time_zone)
        if isinstance(parsed, FieldError):
            errors.append(parsed)
        else:
            zone = parsed
    admin = None
    try:
        admin = NewUser.parse(email=admin_email, display_name=admin_name, role=UserRole.ADMIN)
    except DomainValidationError as exc:
        errors += [FieldError(f"admin.{e.field}", e.code, e.message) for e in exc.errors]
    if errors or admin is None or domain_text is None:
        return errors
    return NewPartner(clean, domain_text, zone, admin)


async def create_partner(
    database: Database,
    config: IdentityConfig,
    principal: Principal,
    scope: Scope | None,
    new: NewPartner,
) -> OnboardedPartner | list[FieldError]:
    if scope is None or not scope.all_partners:
        return [
            FieldError(
                None,
                ErrorCode.NOT_ALLOWED,
                "Partners are onboarded by the distributor itself: send the request without "
                "the Prism-Acting-For header.",
            )
        ]
    async with database.unit_of_work() as uow:
        session = uow.session
        # Take turns with other onboardings (PostgreSQL; SQLite's writers are serial anyway).
        await session.scalar(
            select(Organisation.id)
            .where(Organisation.kind == OrganisationKind.DISTRIBUTOR)
            .with_for_update()
        )
        partners = select(Organisation.id).where(Organisation.kind == OrganisationKind.PARTNER)
        errors = []
        if await session.scalar(partners.where(func.lower(Organisation.name) == new.name.lower())):
            errors.append(
                FieldError("name", ErrorCode.DUPLICATE, f"A partner named {new.name} exists.")
            )
        if await session.scalar(partners.where(Organisation.domain == new.domain)):
            errors.append(
                FieldError(
                    "domain", ErrorCode.DUPLICATE, f"A partner with the domain {new.domain} exists."
                )
            )
        if errors:
            return errors
        partner = Organisation(
            kind=OrganisationKind.PARTNER,
            name=new.name,
            domain=new.domain,
            time_zone=new.time_zone,
        )
        session.add(partner)
        await session.flush()
        admin = await add_invited_user(
            session, config, principal, partner.id, new.admin, email_field="admin.email"
        )
        if isinstance(admin, list):
            return admin
        await uow.commit()
        return OnboardedPartner(partner, admin)
