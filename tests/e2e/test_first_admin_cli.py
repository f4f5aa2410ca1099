"""`prism first-admin` (SPEC T4): a deployment's first distributor admin, created by a command
and never with a published password; run through the `prism` entry point, as a shell would."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import unquote

import anyio
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from prism_cli.main import main
from prism_tables.identity import User, UserStatus
from prism_tables.organisations import Organisation
from tests.integration.identity.conftest import Mailbox, body_text, mailbox
from tests.support.graphql import GraphQLClient
from tests.support.identity import sign_in

__all__ = ["mailbox"]

pytestmark = pytest.mark.e2e

ACCEPT = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { accessToken user { email role status } errors { code } }
}"""
PASSWORD = "a long first password"


@pytest.fixture(autouse=True)
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an operator's shell beside the API has: its DATABASE_URL and settings."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PRISM_ENV", "test")
    monkeypatch.setenv("PUBLIC_URL", "https://prism.example.com")
    for name, value in (("TIME_COST", "1"), ("MEMORY_KIB", "8"), ("PARALLELISM", "1")):
        monkeypatch.setenv(f"PASSWORD_HASH_{name}", value)


async def prism(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`prism first-admin ARGS` in a thread of its own (it runs its own event loop)."""
    capsys.readouterr()
    code = await anyio.to_thread.run_sync(main, ["first-admin", *args])
    out, err = capsys.readouterr()
    return code, out, err


def printed_token(out: str) -> str:
    found = re.search(r"https://prism\.example\.com/accept-invitation\?token=(\S+)", out)
    assert found, out
    return unquote(found.group(1))


def users(engine: Engine) -> list[tuple[str, UserStatus, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(User.email, User.status, Organisation.name).join(
                Organisation, Organisation.id == User.organisation_id
            )
        ).all()
    return [(email, status, org) for email, status, org in rows]


async def test_the_first_admin_is_invited_and_a_second_run_creates_nothing(
    capsys: pytest.CaptureFixture[str],
    sync_engine: Engine,
    mailbox: Mailbox,
    anonymous: GraphQLClient,
) -> None:
    # Given an empty, migrated database: the command makes the distributor and invites.
    code, out, err = await prism(
        capsys,
        "--email",
        " Dana@Acme-Distribution.example ",
        "--name",
        "Dana Admin",
        "--distributor",
        "Acme Distribution",
        "--domain",
        "acme-distribution.example",
    )

    assert (code, err) == (0, "")
    assert "Created the distributor Acme Distribution." in out
    assert "Invited dana@acme-distribution.example" in out
    with Session(sync_engine) as session:  # no password is set, none published: a link
        assert session.scalar(select(User.password_hash)) is None
    first = printed_token(out)
    (mail,) = mailbox.deliver()
    assert mail["To"] == "dana@acme-distribution.example"
    assert first in unquote(body_text(mail))  # the same link, mailed too
    assert users(sync_engine) == [
        ("dana@acme-distribution.example", UserStatus.INVITED, "Acme Distribution")
    ]

    # When it runs again with the same address (e.g. the link got lost): a fresh link.
    code, out, _ = await prism(capsys, "--email", "dana@acme-distribution.example")
    assert code == 0 and "had not accepted yet" in out
    second = printed_token(out)
    assert second != first
    assert len(users(sync_engine)) == 1
    with Session(sync_engine) as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 1

    # Then the earlier link says it was replaced, the new one sets the password.
    old = await anonymous.data(ACCEPT, {"input": {"token": first, "password": PASSWORD}})
    assert [e["code"] for e in old["acceptInvitation"]["errors"]] == ["REPLACED"]
    new = await anonymous.data(ACCEPT, {"input": {"token": second, "password": PASSWORD}})
    assert new["acceptInvitation"]["errors"] == []
    assert new["acceptInvitation"]["user"] == {
        "email": "dana@acme-distribution.example",
        "role": "ADMIN",
        "status": "ACTIVE",
    }
    signed_in = await sign_in(anonymous, "dana@acme-distribution.example", PASSWORD)
    me = await anonymous.as_(signed_in["accessToken"]).data(
        "{ me { permissions organisation { name kind } } }"
    )
    assert me["me"]["organisation"] == {"name": "Acme Distribution", "kind": "DISTRIBUTOR"}
    assert "MANAGE_PARTNERS" in me["me"]["permissions"]

    # And once active, running it again changes nothing and fails nothing.
    code, out, _ = await prism(capsys, "--email", "dana@acme-distribution.example")
    assert code == 0 and "already: nothing changed" in out
    assert "token=" not in out
    assert len(mailbox.deliver()) == 2


async def test_bad_arguments_and_other_users_are_refused_and_change_nothing(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, mailbox: Mailbox
) -> None:
    code, _, err = await prism(capsys, "--email", "dana@acme.example")
    assert code == 2 and "no distributor yet" in err and "--distributor" in err
    code, _, err = await prism(capsys, "--email", "not-an-address", "--distributor", "Acme")
    assert code == 2 and "not a valid e-mail address" in err
    code, _, err = await prism(
        capsys, "--email", "x@acme.example", "--distributor", "Acme", "--domain", "no"
    )
    assert code == 2 and "not a valid domain" in err
    assert users(sync_engine) == []
    with Session(sync_engine) as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 0

    code, _, _ = await prism(capsys, "--email", "dana@acme.example", "--distributor", "Acme")
    assert code == 0
    with Session(sync_engine) as session, session.begin():
        partner = Organisation(kind="PARTNER", name="Contoso", domain="contoso.example")
        session.add(partner)
        session.flush()
        session.add(
            User(
                organisation_id=partner.id,
                email="carla@contoso.example",
                display_name="Carla",
                role="ADMIN",
                status=UserStatus.ACTIVE,
            )
        )
    # A partner's user is no distributor admin: refused, exit code 1.
    code, _, err = await prism(capsys, "--email", "carla@contoso.example")
    assert code == 1 and "belongs to a partner's user" in err

    # Once the distributor has an active admin, another address is refused.
    with Session(sync_engine) as session, session.begin():
        dana = session.scalar(select(User).where(User.email == "dana@acme.example"))
        assert dana is not None
        dana.status = UserStatus.ACTIVE
    code, _, err = await prism(capsys, "--email", "second@acme.example")
    assert code == 1 and "active admin already (dana@acme.example)" in err and "inviteUser" in err
    assert sorted(e for e, _, _ in users(sync_engine)) == [
        "carla@contoso.example",
        "dana@acme.example",
    ]
    assert len(mailbox.deliver()) == 1  # only dana's invitation


async def test_the_operator_may_type_the_password_instead_of_a_link(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mailbox: Mailbox,
    anonymous: GraphQLClient,
    sync_engine: Engine,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = await prism(
        capsys, "--email", "dana@acme.example", "--distributor", "Acme", "--password-stdin"
    )
    assert code == 2 and "at least 12 characters" in err
    assert users(sync_engine) == []

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, _ = await prism(
        capsys, "--email", "dana@acme.example", "--distributor", "Acme", "--password-stdin"
    )

    assert code == 0 and "can sign in with the password you typed" in out
    assert "token=" not in out and mailbox.deliver() == []  # no link made, none mailed
    assert users(sync_engine) == [("dana@acme.example", UserStatus.ACTIVE, "Acme")]
    assert (await sign_in(anonymous, "dana@acme.example", PASSWORD))["errors"] == []
