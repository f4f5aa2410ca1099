"""`prism queue ...`: the messages that did not get through, and replaying them.

Two kinds: messages Dramatiq dead-lettered after their last retry (on Redis; see
`prism_platform.dead_letters`), and outbox rows the relay could not publish (`last_error`
set, still unsent; `prism_graph.outbox.failures`). Both are named by their event id (or its
start). Replaying is safe: the sync worker handles each event exactly once, so a replayed
event that was handled after all changes nothing.

Exit codes: 0 done; 1 the database or the broker is unreachable; 2 bad arguments, or an id
that names nothing.

Only argparse is imported here, so that `prism --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

EXIT_CODES = (
    "exit codes: 0 done; 1 the database or the broker is unreachable; 2 bad arguments, or an "
    "id that names no dead-lettered message and no failed outbox row"
)


def _run(args: argparse.Namespace) -> int:
    from prism_cli.queue.commands import COMMANDS, QueueContext, Unavailable, UnknownId

    try:
        ctx = QueueContext.load(namespace=args.namespace)
    except Unavailable as exc:
        print(f"prism queue: {exc}", file=sys.stderr)
        return 1
    try:
        return COMMANDS[args.queue_command](ctx, args)
    except UnknownId as exc:
        print(f"prism queue: {exc}", file=sys.stderr)
        return 2
    except Unavailable as exc:
        print(f"prism queue: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.close()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `prism queue` and its subcommands on the top-level parser's subparsers."""
    queue = sub.add_parser(
        "queue",
        help="dead-lettered messages and unpublished outbox rows: list, show, replay",
        description="Messages the sync worker gave up on (Dramatiq's dead letters, on Redis) "
        "and outbox rows the relay could not publish. Replaying is safe: every event is "
        "handled exactly once.",
        epilog=EXIT_CODES,
    )
    queue.add_argument(
        "--namespace",
        default="prism",
        help="the broker's Redis key prefix (default prism, as every Prism process uses)",
    )
    commands = queue.add_subparsers(dest="queue_command", required=True, metavar="QUEUE_COMMAND")
    commands.add_parser("list", help="every dead-lettered message and failed outbox row")
    show = commands.add_parser(
        "show", help="one message: actor, event, payload, error, retries, when, handled yet"
    )
    show.add_argument("id", help="the event id from `prism queue list` (or its start)")
    replay = commands.add_parser(
        "replay",
        help="enqueue dead letters again and make failed outbox rows due now",
        description="A dead-lettered message goes back to its live queue with its retries "
        "reset and leaves the dead letters; a failed outbox row becomes due for the relay now.",
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="the event id (or its start)")
    which.add_argument("--all", action="store_true", help="everything `prism queue list` shows")
    queue.set_defaults(fn=_run)
