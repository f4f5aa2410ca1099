"""Run the alembic migrations programmatically (the `prism migrate` command and tests), and
tell whether a database is at the code's migration head (`/readyz`, `prism check`)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

REPO_ROOT = Path(__file__).resolve().parents[3]
ALEMBIC_INI = REPO_ROOT / "alembic.ini"
# alembic's default version table (migrations/env.py names no other).
VERSION_TABLE = "alembic_version"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions the code's migration history ends at (read once per process)."""
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    return frozenset(script.get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database was migrated to; empty when it never was.

    Read from alembic's version table directly, as `MigrationContext.get_current_heads` does,
    without configuring a migration context: that logs two INFO lines, which a readiness
    probe every few seconds would add to the logs."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))


def migration_problem(current: frozenset[str]) -> str | None:
    """Why a database at `current` does not match the code, or None when it is at head."""
    heads = head_revisions()
    if current == heads:
        return None
    if not current:
        return "not migrated (no migration has run): run `prism migrate`"
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    unknown = sorted(rev for rev in current if _lookup(script, rev) is None)
    if unknown:
        return (
            f"at revision {', '.join(unknown)}, which this version does not know "
            "(migrated by a newer release?)"
        )
    behind = _revisions_between(script, current, heads)
    return (
        f"at revision {', '.join(sorted(current))}, {behind} migration"
        f"{'' if behind == 1 else 's'} behind head {', '.join(sorted(heads))}: "
        "run `prism migrate`"
    )


def _lookup(script: ScriptDirectory, revision: str) -> object | None:
    try:
        return script.get_revision(revision)
    except Exception:  # alembic raises its own errors for an unknown id
        return None


def _revisions_between(
    script: ScriptDirectory, current: frozenset[str], heads: frozenset[str]
) -> int:
    pending = set()
    for head in heads:
        for rev in script.iterate_revisions(head, tuple(current) or "base"):
            if rev is not None and rev.revision not in current:
                pending.add(rev.revision)
    return len(pending)
