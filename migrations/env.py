"""Alembic environment: the only way any table is made, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import prism_tables
import prism_tables.sync  # noqa: F401 - registers the syncer's tables
from prism_platform.db import Base, UTCDateTime, make_sync_engine
from prism_platform.decimals import ExactDecimal
from prism_platform.settings import CommonSettings, load_settings

config = context.config
metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations stay free of application imports: UTCDateTime is a timezone-aware DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    # ExactDecimal: NUMERIC(20, 6), and on SQLite the canonical decimal text (TEXT affinity).
    if type_ == "type" and isinstance(obj, ExactDecimal):
        return 'sa.Numeric(precision=20, scale=6).with_variant(sa.Text(), "sqlite")'
    return False


def _url() -> str:
    return config.attributes.get("database_url") or load_settings(CommonSettings).database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_sync_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        _migrate(connection)
        return
    # Batch mode recreates a table to alter it (copy, drop, rename); with foreign keys
    # enforced, dropping a parent such as `invoices` would delete or orphan its child rows.
    # SQLite's own recipe: switch them off around the change (outside any transaction, hence
    # on the driver's connection) and check every reference afterwards.
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations need a connection outside any transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        _migrate(connection)
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migrations left foreign keys that point nowhere: {broken[:10]}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
