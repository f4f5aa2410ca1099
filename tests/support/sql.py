"""Count the SQL statements an engine runs, so tests can prove N+1 queries are gone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith("SELECT")]


# SQLite's BEGIN is sent as a statement by prism_platform.db; it is not a query.
_TRANSACTION_CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}


@contextmanager
def count_statements(engine: Engine | AsyncEngine) -> Iterator[StatementLog]:
    """Record every statement `engine` sends (BEGIN/COMMIT are not statements here)."""
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    log = StatementLog()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.strip().upper() not in _TRANSACTION_CONTROL:
            log.statements.append(statement)

    event.listen(target, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(target, "before_cursor_execute", before)
