"""The API's access to the database: a read session per request, a unit of work per mutation.

The use cases of orders, subscriptions and billing's charges take their caller's unit of work
and never open or commit one: the entry point (a mutation's resolver, a CLI command, the demo
loader) runs such a use case with `Database.run`, which opens the unit of work once and
commits it once. A use case that needs another (a submit creates subscriptions) passes its
unit of work on, so the two commit together or not at all. (The other use cases still open
their own.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio
from sqlalchemy import CompoundSelect, Select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from prism_domain.errors import FieldError
from prism_domain.events import DomainEvent
from prism_graph.common.errors import ServiceUnavailable
from prism_graph.outbox import writer as outbox
from prism_graph.outbox.signal import OutboxSignal
from prism_platform.db import async_writer

# Errors that mean the database cannot be reached, as opposed to a statement it refused.
_UNAVAILABLE = (OperationalError, InterfaceError)

P = ParamSpec("P")
R = TypeVar("R")


class Database:
    def __init__(self, engine: AsyncEngine, signal: OutboxSignal | None = None) -> None:
        self.engine = engine
        self.signal = signal
        self._reader = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._writer = async_sessionmaker(async_writer(engine), expire_on_commit=False)

    def reader(self) -> RequestReader:
        return RequestReader(self._reader())

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._writer(), self.signal)

    async def run(
        self,
        use_case: Callable[Concatenate[UnitOfWork, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run a use case in a unit of work of its own, and commit it once; unless the use
        case answers with errors (a non-empty list of `FieldError`): then all that it wrote
        rolls back. Any other answer, a list of results included, commits."""
        async with self.unit_of_work() as uow:
            result = await use_case(uow, *args, **kwargs)
            if not _is_errors(result):
                await uow.commit()
            return result


def _is_errors(result: object) -> bool:
    return (
        isinstance(result, list) and bool(result) and all(isinstance(e, FieldError) for e in result)
    )


class RequestReader:
    """One read session for a whole request.

    Sibling resolvers and data loaders run concurrently on one event loop, and a session may
    only run one statement at a time, so statements take turns through a lock.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._lock = asyncio.Lock()

    async def scalars(self, stmt: Select[*tuple[Any, ...]]) -> Sequence[Any]:
        async with self._lock:
            try:
                return (await self.session.scalars(stmt)).all()
            except _UNAVAILABLE as exc:
                raise ServiceUnavailable.from_db_error(exc) from exc

    async def scalar(self, stmt: Select[*tuple[Any, ...]]) -> Any:
        async with self._lock:
            try:
                return await self.session.scalar(stmt)
            except _UNAVAILABLE as exc:
                raise ServiceUnavailable.from_db_error(exc) from exc

    async def rows(self, stmt: Select[*tuple[Any, ...]]) -> Sequence[Any]:
        async with self._lock:
            try:
                return list((await self.session.execute(stmt)).all())
            except _UNAVAILABLE as exc:
                raise ServiceUnavailable.from_db_error(exc) from exc

    async def core_rows(
        self,
        stmt: Select[*tuple[Any, ...]] | CompoundSelect[Any],
        parameters: Mapping[str, Any] | None = None,
    ) -> Sequence[Any]:
        """Plain rows on the session's connection, without the ORM's result handling (which
        a statement naming mapped attributes would get, even for bare columns); `parameters`
        are the values of the statement's own bind parameters (e.g. an expanding IN)."""
        async with self._lock:
            try:
                connection = await self.session.connection()
                return (await connection.execute(stmt, parameters)).all()
            except _UNAVAILABLE as exc:
                raise ServiceUnavailable.from_db_error(exc) from exc

    async def release(self) -> None:
        """End the session's transaction and give back its connection, between statements
        (the session is used again afterwards, on a new transaction)."""
        async with self._lock:
            with anyio.CancelScope(shield=True):  # never half-closed (see `close`)
                await self.session.close()

    async def close(self) -> None:
        await self.session.close()


class UnitOfWork:
    """A write transaction that also commits the events its aggregates recorded (outbox)."""

    def __init__(self, session: AsyncSession, signal: OutboxSignal | None) -> None:
        self.session = session
        self._signal = signal
        self._events: list[DomainEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()  # no-op after commit
        finally:
            await self.session.close()
        if isinstance(exc, _UNAVAILABLE):
            raise ServiceUnavailable.from_db_error(exc) from exc

    def record(self, *events: DomainEvent) -> None:
        self._events.extend(events)

    async def commit(self) -> None:
        wrote_events = await outbox.append(self.session, self._events)
        await self.session.commit()
        self._events.clear()
        if wrote_events and self._signal is not None:
            self._signal.notify()
