"""Live progress of invoice sync runs (issue 16): one shared poller per API process.

The worker that drives a run is another process, so the database is the only source of its
progress. Every subscriber of a run (`invoiceSyncRunProgress`) registers a `Watcher` here;
while any is registered, ONE task reads the state of every watched run in one query per
tick (`progress_poll_interval` seconds) and hands each watcher the latest state of its run.
Nothing is read while nobody watches, and a watcher that leaves (its client disconnected or
completed) is removed at once. A watcher keeps only the latest state: a slow client skips
states it had no time for, it never makes the poller wait or buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from prism_psa.outcomes import FINAL
from prism_tables.sync.invoices import InvoiceSyncJob
from prism_tables.sync.invoices import InvoiceSyncRun as RunRow

log = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 0.5


@dataclass(frozen=True, eq=False)
class RunState:
    """An invoice sync run as read at one tick, with its jobs (one per contract service)."""

    row: RunRow
    jobs_done: int
    jobs_total: int

    @property
    def final(self) -> bool:
        return self.row.status in FINAL

    @property
    def key(self) -> tuple[object, ...]:
        """What a subscriber is told again when it changes."""
        r = self.row
        finished: datetime | None = r.finished_at
        return (
            r.status,
            self.jobs_done,
            self.jobs_total,
            r.customers_considered,
            r.customers_synced,
            r.customers_failed,
            r.subscriptions_synced,
            r.adjustments_applied,
            r.warnings,
            r.message,
            finished,
        )


class Watcher:
    """One subscriber's mailbox: the latest state of its run (None: the run is gone)."""

    def __init__(self) -> None:
        self._latest: RunState | None = None
        self._gone = False
        self._ready = asyncio.Event()

    def offer(self, state: RunState | None) -> None:
        self._latest = state
        self._gone = state is None
        self._ready.set()

    async def next(self) -> RunState | None:
        await self._ready.wait()
        self._ready.clear()
        return None if self._gone else self._latest


class ProgressHub:
    """The process's one poller of watched runs (see the module's docstring)."""

    def __init__(self, engine: AsyncEngine, interval: float = DEFAULT_POLL_INTERVAL) -> None:
        self.interval = interval
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._watchers: dict[int, set[Watcher]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def watched_runs(self) -> int:
        return len(self._watchers)

    @property
    def watchers(self) -> int:
        return sum(len(w) for w in self._watchers.values())

    async def read(
        self, run_ids: Iterable[int], visible: ColumnElement[bool] | None = None
    ) -> dict[int, RunState]:
        """The runs' states in one query (only those `visible` matches, when given)."""
        ids = sorted(set(run_ids))
        if not ids:
            return {}
        jobs = (
            select(
                InvoiceSyncJob.run_id.label("run_id"),
                func.count(case((InvoiceSyncJob.status == "DONE", 1))).label("done"),
                func.count().label("total"),
            )
            .where(InvoiceSyncJob.run_id.in_(ids))
            .group_by(InvoiceSyncJob.run_id)
            .subquery()
        )
        stmt = (
            select(RunRow, jobs.c.done, jobs.c.total)
            .outerjoin(jobs, jobs.c.run_id == RunRow.id)
            .where(RunRow.id.in_(ids), visible if visible is not None else true())
        )
        async with self._sessions() as session:
            rows = (await session.execute(stmt)).all()
        return {row.id: RunState(row, int(done or 0), int(total or 0)) for row, done, total in rows}

    @contextlib.asynccontextmanager
    async def watch(self, run_id: int) -> AsyncIterator[Watcher]:
        """Be told of `run_id`'s state at every tick until the block is left."""
        watcher = Watcher()
        self._watchers.setdefault(run_id, set()).add(watcher)
        if self._task is None:
            self._task = asyncio.create_task(self._poll(), name="prism-progress-poller")
        try:
            yield watcher
        finally:
            watchers = self._watchers.get(run_id)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[run_id]

    async def close(self) -> None:
        """Stop polling (the app is shutting down: before its engine is disposed)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(self) -> None:
        try:
            while self._watchers:
                await asyncio.sleep(self.interval)
                ids = list(self._watchers)
                if not ids:
                    break
                try:
                    states = await self.read(ids)
                except Exception:  # the database may be away for a while: try again next tick
                    log.warning("progress poll failed", exc_info=True)
                    continue
                for run_id in ids:
                    for watcher in list(self._watchers.get(run_id, ())):
                        watcher.offer(states.get(run_id))
        finally:
            if self._task is asyncio.current_task():
                self._task = None


__all__ = ["DEFAULT_POLL_INTERVAL", "ProgressHub", "RunState", "Watcher"]
