"""Which database and broker the suite runs on.

The embedded default (SQLite in a temporary directory, Dramatiq's in-process StubBroker)
always works. With DATABASE_URL / REDIS_URL set to PostgreSQL / Redis, the same tests run
there: each session gets a database and a Redis namespace of its own, removed at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


def postgres_requested() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


def redis_requested() -> str | None:
    return os.environ.get("REDIS_URL") or None


@contextmanager
def scratch_database(tmp_dir: Path) -> Iterator[str]:
    """A fresh, empty database URL for this test session."""
    server_url = postgres_requested()
    if server_url is None:
        yield f"sqlite:///{tmp_dir / 'prism-test.sqlite3'}"
        return
    name = f"prism_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(server_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def examples(n: int) -> int:
    """How many examples an integration property explores: `n` on the embedded default,
    where the property is explored; a third (at least 3) on the real services, whose run
    checks the same code paths on PostgreSQL and Redis, not the property's breadth again."""
    return max(3, n // 3) if postgres_requested() else n
