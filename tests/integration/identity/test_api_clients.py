"""API clients (SPEC T2): "generate new credentials", the secret shown once and stored only as
a hash; the OAuth 2.0 client credentials grant (RFC 6749 §4.4) at POST /oauth/token."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_graph.database import Database
from prism_tables.identity import ApiClient
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

CREATE = """
mutation($name: String!) {
  createApiClient(input: {name: $name}) { apiClient { id name clientId } clientSecret errors { field code } }
}
"""


async def new_client(admin: GraphQLClient, name: str = "PSA integration") -> dict[str, Any]:
    data = await admin.data(CREATE, {"name": name})
    payload: dict[str, Any] = data["createApiClient"]
    assert payload["errors"] == []
    return payload


async def token_request(http: Any, data: dict[str, str], **kwargs: Any) -> Any:
    return await http.post("/oauth/token", data=data, **kwargs)


async def test_credentials_are_shown_once_and_stored_as_a_hash(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    admin = anonymous.as_(tenants.a.admin)

    created = await new_client(admin)

    secret = created["clientSecret"]
    assert secret.startswith("prism_cs_") and len(secret) > 40
    listed = await admin.data("{ apiClients { name clientId } }")
    assert listed["apiClients"] == [
        {"name": "PSA integration", "clientId": created["apiClient"]["clientId"]}
    ]
    assert secret not in str(listed)
    async with AsyncSession(database.engine) as session:
        row = (await session.scalars(select(ApiClient))).one()
    assert secret not in (row.secret_hash, row.client_id)
    assert row.organisation_id == tenants.a.id


async def test_the_client_credentials_grant_issues_a_bearer_token(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    created = await new_client(anonymous.as_(tenants.a.admin))
    client_id, secret = created["apiClient"]["clientId"], created["clientSecret"]

    by_body = await token_request(
        anonymous.http,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    by_basic = await token_request(
        anonymous.http,
        {"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )

    for response in (by_body, by_basic):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}  # no refresh token
        assert body["token_type"] == "Bearer"
        assert 0 < body["expires_in"] <= 3600
    machine = anonymous.as_(by_body.json()["access_token"])
    me = await machine.data("{ me { kind organisation { name } } }")
    assert me["me"] == {"kind": "API_CLIENT", "organisation": {"name": "Partner A"}}
    forbidden = await machine.post("{ users { edges { node { email } } } }")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (
            {"grant_type": "password", "client_id": "x", "client_secret": "y"},
            400,
            "unsupported_grant_type",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
    ],
)
async def test_the_token_endpoint_refuses_bad_requests(
    anonymous: GraphQLClient, tenants: Tenants, data: dict[str, str], status: int, error: str
) -> None:
    response = await token_request(anonymous.http, data)
    assert response.status_code == status
    assert response.json()["error"] == error
    if status == 401:
        assert "www-authenticate" in response.headers


async def test_json_bodies_are_refused(anonymous: GraphQLClient, tenants: Tenants) -> None:
    response = await anonymous.http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_a_revoked_client_and_its_tokens_stop_working(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    admin = anonymous.as_(tenants.a.admin)
    created = await new_client(admin)
    form = {
        "grant_type": "client_credentials",
        "client_id": created["apiClient"]["clientId"],
        "client_secret": created["clientSecret"],
    }
    token = (await token_request(anonymous.http, form)).json()["access_token"]

    revoked = await admin.data(
        "mutation($id: ID!) { revokeApiClient(input: {id: $id}) { apiClient { revokedAt } errors { code } } }",
        {"id": created["apiClient"]["id"]},
    )

    assert revoked["revokeApiClient"]["apiClient"]["revokedAt"] is not None
    assert (await anonymous.as_(token).raw("{ me { kind } }")).status_code == 401
    assert (await token_request(anonymous.http, form)).status_code == 401


async def test_another_partners_client_cannot_be_revoked(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    created = await new_client(anonymous.as_(tenants.b.admin))
    attempt = await anonymous.as_(tenants.a.admin).data(
        "mutation($id: ID!) { revokeApiClient(input: {id: $id}) { apiClient { id } errors { code } } }",
        {"id": created["apiClient"]["id"]},
    )
    assert attempt["revokeApiClient"] == {"apiClient": None, "errors": [{"code": "NOT_FOUND"}]}
