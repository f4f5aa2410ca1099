"""Tenants, staff and tokens for tests, made directly in the database (fast: no argon2)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from prism_domain.access import PrincipalKind, UserRole
from prism_domain.organisations import OrganisationKind
from prism_graph.database import Database
from prism_graph.identity.secrets import Passwords, new_token, token_hash
from prism_platform.db import utcnow
from prism_tables.identity import AccessToken, User, UserStatus
from prism_tables.organisations import Organisation

if TYPE_CHECKING:
    from tests.support.graphql import GraphQLClient

# Staff made here have a password nobody uses; argon2 at its cheapest keeps fixtures fast.
FIXTURE_PASSWORD = "fixture-password-unused"
_FIXTURE_HASH = Passwords(time_cost=1, memory_kib=8, parallelism=1).hash(FIXTURE_PASSWORD)


# Signing in, for every test that does it: through the API's `signIn(input:)`.
SIGN_IN = """
mutation($input: SignInInput!) {
  signIn(input: $input) {
    accessToken expiresAt user { email role } errors { field code message }
  }
}
"""


def sign_in_request(email: str, password: str) -> dict[str, Any]:
    """The JSON body of a `signIn` request, for clients that post it themselves."""
    return {"query": SIGN_IN, "variables": {"input": {"email": email, "password": password}}}


def access_token(body: dict[str, Any]) -> str:
    """The access token of a successful `signIn` response body."""
    payload = body["data"]["signIn"]
    assert payload["errors"] == [], payload["errors"]
    token: str = payload["accessToken"]
    return token


async def sign_in(client: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    """The `signIn` payload (accessToken, expiresAt, user, errors)."""
    body = await client.post(SIGN_IN, {"input": {"email": email, "password": password}})
    assert not body.get("errors"), body["errors"]
    payload: dict[str, Any] = body["data"]["signIn"]
    return payload


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@dataclass
class Org:
    id: int
    name: str
    domain: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token
    users: dict[str, int] = field(default_factory=dict)  # role -> user id

    @property
    def gid(self) -> str:
        return gid("Organisation", self.id)

    @property
    def admin(self) -> str:
        return self.tokens["ADMIN"]

    @property
    def member(self) -> str:
        return self.tokens["MEMBER"]


@dataclass
class Tenants:
    distributor: Org
    a: Org
    b: Org


async def add_staff(
    database: Database,
    org_id: int,
    role: UserRole,
    email: str,
    *,
    token_ttl: timedelta = timedelta(hours=1),
) -> tuple[int, str]:
    async with database.unit_of_work() as uow:
        user = User(
            organisation_id=org_id,
            email=email,
            display_name=email.split("@")[0],
            role=role,
            status=UserStatus.ACTIVE,
            password_hash=_FIXTURE_HASH,
        )
        uow.session.add(user)
        await uow.session.flush()
        token = new_token("prism_at")
        uow.session.add(
            AccessToken(
                token_hash=token_hash(token),
                principal_kind=PrincipalKind.USER,
                user_id=user.id,
                expires_at=utcnow() + token_ttl,
            )
        )
        await uow.commit()
        return user.id, token


async def make_tenants(database: Database) -> Tenants:
    """A distributor and partners A and B, each with an admin and a member signed in."""
    suffix = uuid.uuid4().hex[:6]
    orgs = []
    async with database.unit_of_work() as uow:
        for kind, name in (
            (OrganisationKind.DISTRIBUTOR, "Distributor"),
            (OrganisationKind.PARTNER, "Partner A"),
            (OrganisationKind.PARTNER, "Partner B"),
        ):
            domain = f"{name.lower().replace(' ', '-')}-{suffix}.example"
            row = Organisation(kind=kind, name=name, domain=domain)
            uow.session.add(row)
            orgs.append(row)
        await uow.commit()
    result = [Org(o.id, o.name, o.domain or "") for o in orgs]
    for org in result:
        for role in (UserRole.ADMIN, UserRole.MEMBER):
            user_id, token = await add_staff(
                database, org.id, role, f"{role.value.lower()}@{org.domain}"
            )
            org.tokens[role.value] = token
            org.users[role.value] = user_id
    return Tenants(*result)
