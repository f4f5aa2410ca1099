"""`prism sync ...`: run, preview and inspect PSA syncs from a shell (issue 7; S3, S5, S7).

The commands compose the syncer's own use cases (`run_product_sync`, the product sync's
`preview`, `start_run` + `InvoiceSync.drive`, `recovery.safety_check`) over the worker's
settings (`SyncerSettings`: DATABASE_URL, SECRET_KEY, AUTOTASK_ZONE_PROBE_URL, REDIS_URL);
they add no sync rule of their own. Data goes to stdout (aligned text, or `--json`); progress
bars and messages go to stderr.

Exit codes: 0 done; 1 a run failed, is unfinished, or was refused (sync off, not set up);
2 bad arguments, or a partner, program, invoice, customer or run that does not exist.

Only argparse is imported here, so that `prism --help` stays fast; the commands import the
syncer when they run.
"""

from __future__ import annotations

import argparse
import sys

EXIT_CODES = (
    "exit codes: 0 done; 1 a run failed, is unfinished or was refused; 2 bad arguments, or an "
    "unknown partner, program, invoice, customer or run"
)
KINDS = {"product": "product", "products": "product", "invoice": "invoice", "invoices": "invoice"}


def _run(args: argparse.Namespace) -> int:
    from prism_cli.sync import commands
    from prism_cli.sync.context import Refused, SyncContext, UsageError

    try:
        ctx = SyncContext.load()
        try:
            return commands.COMMANDS[args.sync_command](ctx, args)
        finally:
            ctx.close()
    except UsageError as exc:
        print(f"prism sync: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"prism sync: {exc}", file=sys.stderr)
        return 1


def _kind(value: str) -> str:
    try:
        return KINDS[value.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError("choose product(s) or invoice(s)") from None


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `prism sync` and its subcommands on the top-level parser's subparsers."""
    sync = sub.add_parser(
        "sync",
        help="run, preview and inspect PSA syncs",
        description="Run, preview and inspect PSA syncs (S3, S5, S7) with the worker's settings.",
        epilog=EXIT_CODES,
    )
    commands = sync.add_subparsers(dest="sync_command", required=True, metavar="SYNC_COMMAND")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print JSON instead of text")
    progress = argparse.ArgumentParser(add_help=False)
    progress.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it shows on a terminal only)"
    )
    named = "by id or name"

    status = commands.add_parser(
        "status",
        parents=[output],
        help="connection, settings, last runs and unfinished runs per partner and program",
    )
    status.add_argument("--partner", help=f"only this partner ({named})")
    status.add_argument("--program", help=f"only this program ({named})")
    status.add_argument(
        "--budget",
        action="store_true",
        help="also the Autotask request budget used (needs REDIS_URL; one zone lookup)",
    )

    products = commands.add_parser(
        "products",
        parents=[output, progress],
        help="run the product sync (S3), or --preview what it would write",
    )
    products.add_argument("--partner", required=True, help=named)
    products.add_argument("--program", required=True, help=named)
    products.add_argument(
        "--preview", action="store_true", help="show what would be created and updated; no writes"
    )

    invoices = commands.add_parser(
        "invoices",
        parents=[output, progress],
        help="record a MANUAL invoice sync run (S5) and drive it now",
    )
    invoices.add_argument("--partner", required=True, help=named)
    invoices.add_argument("--program", required=True, help=named)
    invoices.add_argument(
        "--invoice",
        help="invoice id or number (INV-202611-000042); default: the program's latest",
    )
    invoices.add_argument("--customer", help=f"only this customer of the partner ({named})")
    invoices.add_argument(
        "--preview",
        action="store_true",
        help="show the adjustments a run would write now, with their amounts; no writes",
    )
    invoices.add_argument(
        "--revert",
        type=int,
        metavar="RUN_ID",
        help="instead, revert that invoice run: put every contract service it changed back "
        "to its units before it (a REVERT run; docs/psa-sync.md, Reverting a run)",
    )

    commands.add_parser(
        "safety-check",
        parents=[output],
        help="resume unfinished invoice runs and sync issued invoices never synced",
    )

    runs = commands.add_parser("runs", parents=[output], help="run history, newest first")
    runs.add_argument("--partner", help=f"only this partner ({named})")
    runs.add_argument("--program", help=f"only this program ({named})")
    runs.add_argument("--kind", type=_kind, help="products or invoices (default: both)")
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")

    show = commands.add_parser(
        "show",
        parents=[output],
        help="one run: its items and, for invoice runs, the reconciliation",
    )
    show.add_argument("kind", type=_kind, metavar="{invoice,product}")
    show.add_argument("run_id", type=int, metavar="RUN_ID")

    sync.set_defaults(fn=_run)
