"""Database engines and the declarative base shared by every table.

The same code runs on SQLite (the embedded default) and PostgreSQL. On SQLite, WAL mode lets
readers run beside the one writer; sessions that write ask for the write lock up front
(`BEGIN IMMEDIATE`) so that a read-then-write transaction never fails half-way on a busy
database. That is chosen per engine with `writer(engine)`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
_IMMEDIATE = "prism_sqlite_immediate"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sync_url(database_url: str) -> URL:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    return url.set(drivername="sqlite+pysqlite")


def async_url(database_url: str) -> URL:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    return url.set(drivername="sqlite+aiosqlite")


def is_sqlite(engine: Engine | AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so that the begin hook below can choose its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _ensure_sqlite_dir(url: URL) -> None:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def make_sync_engine(database_url: str, **kwargs: Any) -> Engine:
    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(url)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_async_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def conflict_insert(dialect: str) -> Any:
    """The dialect's `insert()` that takes ON CONFLICT clauses: PostgreSQL's, else SQLite's
    (both spell `on_conflict_do_nothing` / `on_conflict_do_update` the same way)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def writer(engine: Engine) -> Engine:
    """The same engine, whose transactions take SQLite's write lock when they begin."""
    return engine.execution_options(**{_IMMEDIATE: True})


def async_writer(engine: AsyncEngine) -> AsyncEngine:
    return engine.execution_options(**{_IMMEDIATE: True})


def utcnow() -> datetime:
    return datetime.now(UTC)
