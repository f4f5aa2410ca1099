"""API clients (SPEC T2): a partner's machine credentials, created with a secret shown
once, revoked at once, and exchanged for a bearer token by the OAuth 2.0 client credentials
grant (`oauth.py` is its HTTP endpoint)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import and_, select

from prism_domain.access import Principal, PrincipalKind
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.organisations import OrganisationKind
from prism_domain.text import clean_name
from prism_graph.access import visible_api_clients
from prism_graph.database import Database
from prism_graph.identity.secrets import new_token, same_hash, token_hash
from prism_graph.identity.service import (
    IdentityConfig,
    IssuedToken,
    field_errors,
    issue_token,
    revoke_tokens,
    target_organisation,
)
from prism_platform.db import utcnow
from prism_tables.identity import ApiClient

CLIENT_ID_PREFIX = "prism_ci"
CLIENT_SECRET_PREFIX = "prism_cs"  # noqa: S105 - a prefix, not a secret


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
        org = await target_organisation(uow.session, principal, partner_id)
        if isinstance(org, list):
            return org
        if org.kind is not OrganisationKind.PARTNER:
            return field_errors(
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
            return field_errors(("id", ErrorCode.NOT_FOUND, "No such API client."))
        if client.revoked_at is None:
            client.revoked_at = utcnow()
            await revoke_tokens(uow.session, api_client_id=client.id)
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
