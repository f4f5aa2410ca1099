"""Who is calling: a bearer token in `Authorization` becomes a `Principal`.

A request without a token is anonymous (and reaches only public fields). A request with a
token that is malformed, unknown, expired or revoked, or whose user or client is no longer
active, is refused outright with 401 and `WWW-Authenticate` (RFC 6750 §3).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, PrincipalKind
from prism_domain.organisations import OrganisationKind
from prism_graph.common.ids import node_pk
from prism_graph.contacts.auth import contact_principal
from prism_graph.identity.secrets import token_hash
from prism_platform.db import utcnow
from prism_tables.identity import AccessToken, ApiClient, User, UserStatus
from prism_tables.organisations import Organisation

TOKEN_PREFIX = "prism_at"  # noqa: S105 - a prefix, not a secret
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class AuthError(Exception):
    """RFC 6750 error code and a description safe to show."""

    error: str
    description: str
    status: int = 401

    def www_authenticate(self) -> str:
        return f'Bearer realm="prism", error="{self.error}", error_description="{self.description}"'


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header; None when there is no header."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH or " " in token:
        raise AuthError("invalid_request", "Use 'Authorization: Bearer <token>'.", 400)
    return token


async def principal_for_token(session: AsyncSession, token: str) -> Principal:
    invalid = AuthError("invalid_token", "The access token is invalid, expired or revoked.")
    if not token.startswith(TOKEN_PREFIX + "_"):
        raise invalid
    org_id = func.coalesce(User.organisation_id, ApiClient.organisation_id)
    row = (
        await session.execute(
            select(AccessToken, User, ApiClient, Organisation)
            .outerjoin(User, User.id == AccessToken.user_id)
            .outerjoin(ApiClient, ApiClient.id == AccessToken.api_client_id)
            .outerjoin(Organisation, Organisation.id == org_id)
            .where(AccessToken.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        raise invalid
    access, user, client, organisation = row
    if access.principal_kind is PrincipalKind.CONTACT:
        # A customer-account contact (T3): scoped to its own customer, R7 by its role.
        live = access.revoked_at is None and access.expires_at > utcnow()
        contact = await contact_principal(session, access) if live else None
        if contact is None:
            raise invalid
        return contact
    if access.revoked_at is not None or access.expires_at <= utcnow() or organisation is None:
        raise invalid
    partner_id = organisation.id if organisation.kind is OrganisationKind.PARTNER else None
    if access.principal_kind is PrincipalKind.USER and user is not None:
        if user.status is not UserStatus.ACTIVE:
            raise invalid
        return Principal(
            kind=PrincipalKind.USER,
            id=user.id,
            label=user.email,
            organisation_kind=organisation.kind,
            organisation_id=organisation.id,
            partner_id=partner_id,
            user_role=user.role,
            token_id=access.id,
        )
    if access.principal_kind is PrincipalKind.API_CLIENT and client is not None:
        if client.revoked_at is not None:
            raise invalid
        return Principal(
            kind=PrincipalKind.API_CLIENT,
            id=client.id,
            label=f"api-client:{client.client_id}",
            organisation_kind=organisation.kind,
            organisation_id=organisation.id,
            partner_id=partner_id,
            token_id=access.id,
        )
    raise invalid


async def act_for(session: AsyncSession, principal: Principal, partner_gid: str) -> Principal:
    """Distributor staff acting for one partner (`Prism-Acting-For` header)."""
    from dataclasses import replace

    from strawberry.relay import GlobalID

    if not principal.is_distributor:
        raise AuthError("insufficient_scope", "Only distributor staff may act for a partner.", 403)
    try:
        pk = node_pk(GlobalID.from_id(partner_gid), "Organisation")
    except Exception:
        pk = -1
    partner_id = pk if pk >= 0 else None
    found = partner_id is not None and await session.scalar(
        select(Organisation.id).where(
            Organisation.id == partner_id, Organisation.kind == OrganisationKind.PARTNER
        )
    )
    if not found:
        raise AuthError("invalid_request", "Prism-Acting-For names no partner.", 400)
    return replace(principal, partner_id=partner_id, acting_for_partner_id=partner_id)
