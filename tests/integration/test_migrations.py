"""Alembic migrations are the only way tables are made; they must match the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import prism_tables
import prism_tables.sync  # noqa: F401
from prism_platform.db import Base, make_sync_engine
from prism_platform.migrate import alembic_config

pytestmark = pytest.mark.integration


def test_models_and_migrations_agree(database_url: str, sync_engine: Engine) -> None:
    with sync_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations disagree; run `make migration`: {diff}"


def test_every_table_comes_from_a_migration(database_url: str, sync_engine: Engine) -> None:
    tables = set(inspect(sync_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_go_down_and_up_again(tmp_path_factory: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('roundtrip') / 'db.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_sync_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    command.upgrade(config, "head")
