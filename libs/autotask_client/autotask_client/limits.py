"""The limiter hook: where the caller's view of Autotask's limits plugs into the client.

Autotask allows 10,000 requests per rolling hour per *database* (shared by every
integration) and 3 concurrent requests per integration per endpoint (AUTOTASK.md §5).
Only the caller can see every worker, so the client asks a :class:`RequestLimiter`
for a slot around each HTTP attempt. The syncer implements it with Dramatiq's
Redis-backed rate limiters; :class:`LocalLimiter` holds the limits within one process.

The budget belongs to the Autotask database, which ``client.zone().ci`` identifies, so a
shared limiter keys its budget on that and its slots on ``(integration, endpoint)``. For
example, with Dramatiq::

    class DramatiqLimiter:
        def __init__(self, backend, ci: int, integration: str) -> None:
            self.budget = WindowRateLimiter(backend, f"at:{ci}", limit=9_000, window=3600)
            self.backend, self.integration = backend, integration

        def acquire(self, endpoint: str) -> AbstractContextManager[object]:
            stack = ExitStack()
            stack.enter_context(self.budget.acquire())
            slot = ConcurrentRateLimiter(
                self.backend, f"at:{self.integration}:{endpoint}", limit=3
            )
            stack.enter_context(slot.acquire())
            return stack
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol, runtime_checkable

from .errors import BudgetExhaustedError, RateLimitError

#: Documented defaults (DOC REST_Thresholds_Limits.htm, DOC ThreadLimiting.htm).
HOURLY_REQUEST_BUDGET = 10_000
BUDGET_WINDOW_SECONDS = 3600.0
PER_ENDPOINT_CONCURRENCY = 3


@runtime_checkable
class RequestLimiter(Protocol):
    def acquire(self, endpoint: str) -> AbstractContextManager[object]:
        """A slot for one request to ``endpoint`` (e.g. ``"Services"``).

        Block until a slot is free, or raise
        :class:`~autotask_client.errors.RateLimitError` (typically
        :class:`~autotask_client.errors.BudgetExhaustedError`) to give up.
        """
        ...


class NoLimiter:
    """Default: the client does not limit itself."""

    def acquire(self, endpoint: str) -> AbstractContextManager[object]:
        return nullcontext()


class LocalLimiter:
    """Rolling-window budget and per-endpoint concurrency for one process."""

    def __init__(
        self,
        *,
        budget: int = HOURLY_REQUEST_BUDGET,
        window_seconds: float = BUDGET_WINDOW_SECONDS,
        concurrency: int = PER_ENDPOINT_CONCURRENCY,
        acquire_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.window_seconds = window_seconds
        self.concurrency = concurrency
        self.acquire_timeout = acquire_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def used(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._sent)

    def _expire(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window_seconds:
            self._sent.popleft()

    def _spend(self) -> None:
        with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._sent) >= self.budget:
                wait = self._sent[0] + self.window_seconds - now
                raise BudgetExhaustedError(
                    f"local request budget of {self.budget} per {self.window_seconds:.0f}s spent",
                    retry_after=max(wait, 0.0),
                )
            self._sent.append(now)

    def _semaphore(self, endpoint: str) -> threading.BoundedSemaphore:
        key = endpoint.lower()
        with self._lock:
            if key not in self._slots:
                self._slots[key] = threading.BoundedSemaphore(self.concurrency)
            return self._slots[key]

    @contextmanager
    def _slot(self, endpoint: str) -> Iterator[object]:
        semaphore = self._semaphore(endpoint)
        if not semaphore.acquire(timeout=self.acquire_timeout):
            raise RateLimitError(f"no free request slot for endpoint {endpoint}")
        try:
            self._spend()
            yield None
        finally:
            semaphore.release()

    def acquire(self, endpoint: str) -> AbstractContextManager[object]:
        return self._slot(endpoint)
