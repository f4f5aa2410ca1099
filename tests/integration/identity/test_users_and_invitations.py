"""Partner admins manage their own partner's users (SPEC T2): invite by e-mail, accept through
a single-use expiring link, list, deactivate, re-activate, change role."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import update

from prism_graph.database import Database
from prism_platform.db import utcnow
from prism_tables.identity import UserInvitation
from tests.integration.identity.conftest import Mailbox, body_text
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid

pytestmark = pytest.mark.integration

INVITE = """
mutation($input: InviteUserInput!) {
  inviteUser(input: $input) { user { id email status role organisation { name } } errors { field code message } }
}
"""
ACCEPT_INVITATION = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    accessToken user { email status } errors { field code message }
  }
}
"""
RESEND = """
mutation($id: ID!) { resendInvitation(input: {id: $id}) { user { id } errors { field code } } }
"""
DEACTIVATE = """
mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { id status } errors { field code } } }
"""
USERS = "{ users(first: 50) { edges { node { email status role } } } }"


def link_token(text: str) -> str:
    match = re.search(r"accept-invitation\?token=(\S+)", text)
    assert match, text
    return unquote(match.group(1))


async def accept(anonymous: GraphQLClient, token: str, password: str) -> dict[str, Any]:
    variables = {"input": {"token": token, "password": password}}
    return dict((await anonymous.data(ACCEPT_INVITATION, variables))["acceptInvitation"])


async def invite(admin: GraphQLClient, **input: Any) -> dict[str, Any]:
    data = await admin.data(INVITE, {"input": {"displayName": "New Person", **input}})
    return dict(data["inviteUser"])


async def test_an_admin_invites_a_user_who_accepts_by_the_mailed_link(
    anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    admin = anonymous.as_(tenants.a.admin)

    invited = await invite(admin, email="Newbie@Partner-A.example", role="MEMBER")

    assert invited["errors"] == []
    assert invited["user"]["status"] == "INVITED"
    assert invited["user"]["organisation"]["name"] == "Partner A"
    (message,) = mailbox.deliver()
    assert message["To"] == "newbie@partner-a.example"
    assert "Partner A" in message["Subject"] or "Partner A" in body_text(message)
    token = link_token(body_text(message))

    payload = await accept(anonymous, token, "a long new password")
    assert payload["errors"] == []
    assert payload["user"] == {"email": "newbie@partner-a.example", "status": "ACTIVE"}
    me = await anonymous.as_(payload["accessToken"]).data("{ me { user { email } } }")
    assert me["me"]["user"]["email"] == "newbie@partner-a.example"

    again = await accept(anonymous, token, "another long one")
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("input.token", "ALREADY_USED")]
    assert "used already" in again["errors"][0]["message"]


async def test_an_expired_or_unknown_invitation_is_refused(
    anonymous: GraphQLClient, database: Database, tenants: Tenants, mailbox: Mailbox
) -> None:
    await invite(anonymous.as_(tenants.a.admin), email="late@partner-a.example", role="MEMBER")
    token = link_token(body_text(mailbox.deliver()[0]))
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(UserInvitation).values(expires_at=utcnow() - timedelta(days=1))
        )
        await uow.commit()

    expired = await accept(anonymous, token, "a long new password")
    unknown = await accept(anonymous, "prism_inv_nope", "a long new password")

    assert [e["code"] for e in expired["errors"]] == ["EXPIRED"]
    assert [e["code"] for e in unknown["errors"]] == ["NOT_FOUND"]


async def test_resending_an_invitation_replaces_the_earlier_link(
    anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    admin = anonymous.as_(tenants.a.admin)
    user = (await invite(admin, email="twice@partner-a.example", role="MEMBER"))["user"]
    resent = await admin.data(RESEND, {"id": user["id"]})
    assert resent["resendInvitation"]["errors"] == []
    first, second = (link_token(body_text(m)) for m in mailbox.deliver())

    old = await accept(anonymous, first, "a long new password")
    new = await accept(anonymous, second, "a long new password")

    # The replaced link says so: a newer one was sent (not "used already").
    assert [(e["field"], e["code"]) for e in old["errors"]] == [("input.token", "REPLACED")]
    assert "replaced by a newer one" in old["errors"][0]["message"]
    assert new["errors"] == []
    used = await accept(anonymous, second, "a long new password")
    assert [e["code"] for e in used["errors"]] == ["ALREADY_USED"]
    # Nothing to re-send once accepted; a foreign or unknown user is not found.
    again = await admin.data(RESEND, {"id": user["id"]})
    assert [(e["field"], e["code"]) for e in again["resendInvitation"]["errors"]] == [
        ("input.id", "CONFLICT")
    ]
    for target in (gid("User", tenants.b.users["MEMBER"]), gid("User", 987654)):
        missing = await admin.data(RESEND, {"id": target})
        assert [(e["field"], e["code"]) for e in missing["resendInvitation"]["errors"]] == [
            ("input.id", "NOT_FOUND")
        ]
    assert mailbox.deliver()[2:] == []


async def test_invitation_input_is_validated_and_changes_nothing(
    anonymous: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    admin = anonymous.as_(tenants.a.admin)
    bad = await invite(admin, email="not-an-address", displayName=" ", role="MEMBER")
    taken = await invite(admin, email=f"member@{tenants.a.domain}", role="MEMBER")

    assert {(e["field"], e["code"]) for e in bad["errors"]} == {
        ("input.email", "INVALID"),
        ("input.displayName", "REQUIRED"),
    }
    assert [(e["field"], e["code"]) for e in taken["errors"]] == [("input.email", "DUPLICATE")]
    assert mailbox.deliver() == []
    emails = {e["node"]["email"] for e in (await admin.data(USERS))["users"]["edges"]}
    assert emails == {f"admin@{tenants.a.domain}", f"member@{tenants.a.domain}"}


async def test_a_partner_admin_sees_and_manages_only_their_own_users(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    admin_a = anonymous.as_(tenants.a.admin)
    listed = {e["node"]["email"] for e in (await admin_a.data(USERS))["users"]["edges"]}
    assert listed == {f"admin@{tenants.a.domain}", f"member@{tenants.a.domain}"}

    foreign = gid("User", tenants.b.users["MEMBER"])
    missing = gid("User", 987654)
    answers = []
    for target in (foreign, missing):
        result = await admin_a.data(DEACTIVATE, {"id": target})
        answers.append(result["deactivateUser"])
    assert answers[0] == answers[1]  # another partner's user reads exactly like no user
    assert [e["code"] for e in answers[0]["errors"]] == ["NOT_FOUND"]
    still = await anonymous.as_(tenants.b.member).data("{ me { kind } }")
    assert still["me"]["kind"] == "USER"


async def test_members_cannot_manage_users(anonymous: GraphQLClient, tenants: Tenants) -> None:
    body = await anonymous.as_(tenants.a.member).post(USERS)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_roles_and_reactivation_keep_one_active_admin(
    anonymous: GraphQLClient, tenants: Tenants
) -> None:
    admin = anonymous.as_(tenants.a.admin)
    set_role = """mutation($id: ID!, $role: UserRole!) {
      setUserRole(input: {id: $id, role: $role}) { user { role } errors { field code } } }"""
    me_id = gid("User", tenants.a.users["ADMIN"])
    member_id = gid("User", tenants.a.users["MEMBER"])

    demote_self = await admin.data(set_role, {"id": me_id, "role": "MEMBER"})
    assert [(e["field"], e["code"]) for e in demote_self["setUserRole"]["errors"]] == [
        ("input.role", "NOT_ALLOWED")
    ]
    self_off = await admin.data(DEACTIVATE, {"id": me_id})
    assert [(e["field"], e["code"]) for e in self_off["deactivateUser"]["errors"]] == [
        ("input.id", "NOT_ALLOWED")
    ]
    foreign = await admin.data(
        set_role, {"id": gid("User", tenants.b.users["MEMBER"]), "role": "ADMIN"}
    )
    assert [e["code"] for e in foreign["setUserRole"]["errors"]] == ["NOT_FOUND"]

    promoted = await admin.data(set_role, {"id": member_id, "role": "ADMIN"})
    assert promoted["setUserRole"] == {"user": {"role": "ADMIN"}, "errors": []}
    await admin.data(DEACTIVATE, {"id": member_id})
    back = await admin.data(
        "mutation($id: ID!) { reactivateUser(input: {id: $id}) { user { status } errors { code } } }",
        {"id": member_id},
    )
    assert back["reactivateUser"] == {"user": {"status": "ACTIVE"}, "errors": []}


async def test_distributor_staff_invite_into_a_partner_they_name(
    client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    result = await invite(
        client, email="helper@partner-b.example", role="ADMIN", partnerId=tenants.b.gid
    )
    assert result["errors"] == []
    assert result["user"]["organisation"]["name"] == "Partner B"
    from_a = await invite(
        client.as_(tenants.a.admin),
        email="x@partner-a.example",
        role="MEMBER",
        partnerId=tenants.b.gid,
    )
    assert [(e["field"], e["code"]) for e in from_a["errors"]] == [("input.partnerId", "NOT_FOUND")]
