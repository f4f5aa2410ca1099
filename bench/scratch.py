"""A scratch database for a benchmark: a fresh one on the DATABASE_URL PostgreSQL server,
dropped at the end, or a SQLite file in a temporary directory without DATABASE_URL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


def postgres_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


@contextmanager
def scratch_database(prefix: str = "prism_bench") -> Iterator[str]:
    server = postgres_server()
    if server is None:
        with tempfile.TemporaryDirectory(prefix="prism-bench-") as tmp:
            yield f"sqlite:///{tmp}/{prefix}.sqlite3"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
