"""Sign-in, bearer tokens and their revocation (SPEC T2, N2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import UserRole
from prism_graph.database import Database
from prism_graph.identity.secrets import Passwords
from prism_tables.identity import AccessToken, User, UserStatus
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, add_staff, sign_in

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"
ME = "{ me { kind label permissions user { email } organisation { name } } }"


async def with_password(database: Database, email: str, password: str = PASSWORD) -> None:
    hashed = Passwords(time_cost=1, memory_kib=8, parallelism=1).hash(password)
    async with database.unit_of_work() as uow:
        user = await uow.session.scalar(select(User).where(User.email == email))
        assert user is not None
        user.password_hash = hashed
        await uow.commit()


async def test_a_user_signs_in_and_the_token_identifies_them(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    email = f"admin@{tenants.a.domain}"
    await with_password(database, email)

    payload = await sign_in(anonymous, f"  {email.upper()} ", PASSWORD)

    assert payload["errors"] == []
    assert payload["user"] == {"email": email, "role": "ADMIN"}
    assert payload["accessToken"].startswith("prism_at_")
    me = (await anonymous.as_(payload["accessToken"]).data(ME))["me"]
    assert me["kind"] == "USER" and me["user"]["email"] == email
    assert me["organisation"]["name"] == "Partner A"
    assert "MANAGE_USERS" in me["permissions"]
    async with AsyncSession(database.engine) as session:
        stored = (await session.scalars(select(AccessToken.token_hash))).all()
    assert payload["accessToken"] not in stored  # only a hash is kept


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    email = f"admin@{tenants.a.domain}"
    await with_password(database, email)

    wrong = await sign_in(anonymous, email, "not the password at all")
    unknown = await sign_in(anonymous, "nobody@nowhere.example", PASSWORD)

    assert wrong == unknown
    assert wrong["accessToken"] is None
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("input", "INVALID_CREDENTIALS")]


async def test_sign_in_is_throttled_per_account(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    email = f"member@{tenants.b.domain}"
    await with_password(database, email)
    for _ in range(10):  # the setting's default: 10 per 15 minutes per account
        await sign_in(anonymous, email, "guessing, guessing")

    blocked = await sign_in(anonymous, email, PASSWORD)  # even the right password now

    assert [e["code"] for e in blocked["errors"]] == ["THROTTLED"]
    assert blocked["accessToken"] is None


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("Bearer prism_at_unknown-token-value", "invalid_token"),
        ("Bearer not-even-our-format", "invalid_token"),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer two words", "invalid_request"),
    ],
)
async def test_bad_tokens_are_refused_with_401_or_400(
    anonymous: GraphQLClient, tenants: Tenants, header: str, error: str
) -> None:
    response = await anonymous.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": header}
    )
    assert response.status_code in (400, 401)
    if response.status_code == 401:
        assert f'error="{error}"' in response.headers["www-authenticate"]
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "BAD_REQUEST")


async def test_expired_and_revoked_tokens_stop_working(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    _, expired = await add_staff(
        database, tenants.a.id, UserRole.MEMBER, "old@a.example", token_ttl=timedelta(seconds=-1)
    )
    signed_in = anonymous.as_(tenants.a.member)
    assert (await signed_in.data(ME))["me"]["kind"] == "USER"

    assert (await signed_in.data("mutation { signOut { errors { code } } }"))["signOut"] == {
        "errors": []
    }

    for token in (expired, tenants.a.member):
        response = await anonymous.as_(token).raw(ME)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_anonymous_callers_reach_only_public_fields(anonymous: GraphQLClient) -> None:
    body = await anonymous.post("{ customers { totalCount } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_deactivated_users_tokens_stop_at_once(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants
) -> None:
    member = anonymous.as_(tenants.a.member)
    assert (await member.data(ME))["me"]["kind"] == "USER"
    admin = anonymous.as_(tenants.a.admin)

    result = await admin.data(
        "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { status } errors { code } } }",
        {"id": user_gid(tenants.a.users["MEMBER"])},
    )

    assert result["deactivateUser"] == {"user": {"status": "DEACTIVATED"}, "errors": []}
    assert (await member.raw(ME)).status_code == 401


async def test_changing_the_password_signs_out_every_session(
    anonymous: GraphQLClient, database: Database, tenants: Tenants
) -> None:
    email = f"member@{tenants.a.domain}"
    await with_password(database, email)
    first = (await sign_in(anonymous, email, PASSWORD))["accessToken"]
    second = (await sign_in(anonymous, email, PASSWORD))["accessToken"]
    change = """mutation($input: ChangePasswordInput!) {
      changePassword(input: $input) { accessToken errors { field code } } }"""

    def passwords(current: str, new: str) -> dict[str, object]:
        return {"input": {"currentPassword": current, "newPassword": new}}

    weak = await anonymous.as_(first).data(change, passwords(PASSWORD, "short"))
    wrong = await anonymous.as_(first).data(change, passwords("not it at all", "a longer secret"))
    assert [(e["field"], e["code"]) for e in weak["changePassword"]["errors"]] == [
        ("input.newPassword", "WEAK_PASSWORD")
    ]
    assert [(e["field"], e["code"]) for e in wrong["changePassword"]["errors"]] == [
        ("input.currentPassword", "INVALID_CREDENTIALS")
    ]
    changed = await anonymous.as_(first).data(change, passwords(PASSWORD, "a much longer secret"))

    fresh = changed["changePassword"]["accessToken"]
    assert fresh and changed["changePassword"]["errors"] == []
    for old in (first, second):
        assert (await anonymous.as_(old).raw(ME)).status_code == 401
    assert (await anonymous.as_(fresh).data(ME))["me"]["user"]["email"] == email
    assert (await sign_in(anonymous, email, "a much longer secret"))["errors"] == []


def user_gid(pk: int) -> str:
    from tests.support.identity import gid

    return gid("User", pk)


async def test_statuses_are_stored_as_expected(database: Database, tenants: Tenants) -> None:
    async with AsyncSession(database.engine) as session:
        statuses = set((await session.scalars(select(User.status))).all())
    assert statuses == {UserStatus.ACTIVE}
