"""`prism first-admin`: a deployment's first distributor admin, without a published password.

By default the admin is invited: the command prints a single-use link to set a password
(valid INVITATION_TTL_HOURS) and queues the same invitation e-mail as the API sends, which
`prism mailer` delivers. With `--password-stdin` the operator types the password instead (a
hidden prompt on a terminal, else the first line of stdin); it is never an argument, so it
stays out of shell history and process lists.

Running it again with the same e-mail address creates nothing: an admin who has not accepted
gets a fresh link (the earlier one stops working), an active admin is left as is. The rules
are `prism_graph.identity.first_admin`'s. Reads the API's settings (DATABASE_URL,
PUBLIC_URL for the link, the password hashing and invitation settings).

Exit codes: 0 done or nothing to do; 1 refused (the address belongs to another kind of
user, or the distributor has an active admin already); 2 bad arguments, or no database.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

EXIT_CODES = (
    "exit codes: 0 done, or nothing to do; 1 refused (see the message); 2 bad arguments, or "
    "the database is not migrated"
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `prism first-admin` on the top-level parser's subparsers."""
    parser = sub.add_parser(
        "first-admin",
        help="create the deployment's first distributor admin (an invitation link, no password)",
        description=(
            "Create the first admin of the distributor (and the distributor itself on an empty "
            "database). Prints a single-use link to set a password and queues the invitation "
            "e-mail; with --password-stdin, sets the password you type instead. Idempotent: "
            "again with the same e-mail, an admin who has not accepted gets a fresh link, an "
            "active one is left as is."
        ),
        epilog=EXIT_CODES,
    )
    parser.add_argument("--email", required=True, help="the admin's e-mail address (sign-in)")
    parser.add_argument(
        "--name", help="the admin's display name (default: the e-mail's local part)"
    )
    parser.add_argument(
        "--distributor",
        metavar="NAME",
        help="the distributor's name, needed only when the database has no distributor yet",
    )
    parser.add_argument("--domain", help="the distributor's internet domain, with --distributor")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="set the password now: prompt for it (or read a line from stdin) instead of an "
        "invitation link",
    )
    parser.set_defaults(fn=run)


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_stdin:
        return None
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the new admin: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from prism_domain.errors import FieldError
    from prism_graph.app import build_identity
    from prism_graph.common.errors import PublicError
    from prism_graph.database import Database
    from prism_graph.identity.first_admin import USAGE_CODES, FirstAdmin, ensure_first_admin
    from prism_graph.settings import GraphSettings
    from prism_platform.db import make_async_engine
    from prism_platform.settings import load_settings

    try:
        password = _password(args)
    except ValueError as exc:
        print(f"prism first-admin: {exc}; nothing changed", file=sys.stderr)
        return 2
    settings = load_settings(GraphSettings)
    identity = build_identity(settings)

    async def ensure() -> FirstAdmin | list[FieldError]:
        database = Database(make_async_engine(settings.database_url))
        try:
            return await ensure_first_admin(
                database,
                identity,
                email=args.email,
                display_name=args.name,
                distributor_name=args.distributor,
                distributor_domain=args.domain,
                password=password,
            )
        finally:
            await database.engine.dispose()

    try:
        result = asyncio.run(ensure())
    except (OperationalError, ProgrammingError, PublicError):
        print(
            "prism first-admin: the database cannot be reached or is not migrated (check "
            "DATABASE_URL; run `prism migrate` first); nothing changed",
            file=sys.stderr,
        )
        return 2
    if isinstance(result, list):
        for error in result:
            print(f"prism first-admin: {error.message}", file=sys.stderr)
        return 2 if all(e.code in USAGE_CODES for e in result) else 1
    print(report(result))
    return 0


def report(done: object) -> str:
    from prism_graph.identity.first_admin import FirstAdmin, Outcome

    assert isinstance(done, FirstAdmin)
    lines = []
    if done.distributor_created:
        lines.append(f"Created the distributor {done.distributor}.")
    what = {
        Outcome.INVITED: f"Invited {done.email} as the first admin of {done.distributor}.",
        Outcome.REINVITED: f"{done.email} had not accepted yet: sent a fresh invitation link "
        "(earlier links no longer work).",
        Outcome.ACTIVATED: f"{done.email} is an admin of {done.distributor} and can sign in "
        "with the password you typed.",
        Outcome.ALREADY_ACTIVE: f"{done.email} is an active admin of {done.distributor} "
        "already: nothing changed.",
    }
    lines.append(what[done.outcome])
    if done.invitation is not None:
        expires = done.invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        lines += [
            f"Open this link to set a password (it works once, until {expires}):",
            f"  {done.invitation.link}",
            "The invitation e-mail is queued too (`prism mailer` sends it). The link opens "
            "Prism's own page to set it; a front end may instead call the API:",
            '  mutation { acceptInvitation(input: {token: "'
            + done.invitation.token
            + '", password: "..."}) { accessToken errors { message } } }',
        ]
    return "\n".join(lines)
