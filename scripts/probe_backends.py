"""Report which real backends are reachable: `probe_backends.py POSTGRES_URL REDIS_URL`.

Prints `postgres=yes|no redis=yes|no`; used by scripts/test.sh to decide what to cover.
"""

from __future__ import annotations

import sys

import psycopg
import redis
from sqlalchemy.engine import make_url


def postgres_ok(url: str) -> bool:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_ok(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        return bool(client.ping())
    except redis.RedisError:
        return False


if __name__ == "__main__":
    pg, rd = sys.argv[1], sys.argv[2]
    print(f"postgres={'yes' if postgres_ok(pg) else 'no'} redis={'yes' if redis_ok(rd) else 'no'}")
