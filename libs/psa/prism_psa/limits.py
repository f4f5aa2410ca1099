"""The PSAs' limits held across every worker process (N3), with Dramatiq's rate limiters.

The `RequestLimiter` the client asks around each authenticated request: a rolling-hour
budget per Autotask database (keyed on the zone's `ci`, shared by every partner user of that
database) and at most 3 requests at a time per integration and endpoint. With REDIS_URL the
counters live in Redis, so they hold across processes and hosts; without it, in the process.
Keys carry a hash of the integration code, never the code. ConnectWise's limiter
(`connectwise_limiter`) is the same mechanism with its own keys, window and refusals.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass

from dramatiq.rate_limits import (
    ConcurrentRateLimiter,
    RateLimiterBackend,
    RateLimitExceeded,
    WindowRateLimiter,
)
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from autotask_client import BudgetExhaustedError, RateLimitError
from connectwise_client import RateLimitError as ConnectWiseRateLimit
from prism_platform.metrics import AUTOTASK_BUDGET_REMAINING, report_budget

#: Below Autotask's 10,000 so that other integrations on the database keep some room.
HOURLY_BUDGET = 9_000
WINDOW_SECONDS = 3600
PER_ENDPOINT_CONCURRENCY = 3
SLOT_TTL_MS = 120_000  # a crashed worker's slot frees itself after this
SLOT_WAIT_SECONDS = 30.0
SLOT_POLL_SECONDS = 0.05
KEY_PREFIX = "prism:autotask"


def make_backend(redis_url: str | None) -> RateLimiterBackend:
    """Redis when configured; else the process's one in-memory backend, so that the API and
    the worker of one `prism dev` process count the same budget (and the API shows it)."""
    return RedisBackend(url=redis_url) if redis_url else _in_process_backend()


@functools.cache
def _in_process_backend() -> RateLimiterBackend:
    return StubBackend()  # type: ignore[no-untyped-call]


def integration_key(integration_code: str) -> str:
    return hashlib.sha256(integration_code.encode()).hexdigest()[:16]


def _autotask_no_slot(endpoint: str) -> Exception:
    return RateLimitError(f"no free request slot for endpoint {endpoint}")


def _autotask_spent(budget: int, window_seconds: int) -> Exception:
    return BudgetExhaustedError(
        f"request budget of {budget} per {window_seconds}s spent",
        retry_after=float(window_seconds),
    )


class DramatiqLimiter:
    """A rolling-window budget per PSA database and at most `concurrency` requests at a time
    per integration and endpoint, counted in the Dramatiq rate-limiter backend every worker
    shares. Autotask's by default; `prefix`, `no_slot` and `spent` make it another PSA's
    (`connectwise_limiter`)."""

    def __init__(
        self,
        backend: RateLimiterBackend,
        *,
        database_key: Callable[[], str],
        integration: str,
        budget: int = HOURLY_BUDGET,
        window_seconds: int = WINDOW_SECONDS,
        concurrency: int = PER_ENDPOINT_CONCURRENCY,
        slot_wait_seconds: float = SLOT_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        prefix: str = KEY_PREFIX,
        no_slot: Callable[[str], Exception] = _autotask_no_slot,
        spent: Callable[[int, int], Exception] = _autotask_spent,
    ) -> None:
        self.prefix = prefix
        self._no_slot = no_slot
        self._spent = spent
        self.backend = backend
        self.database_key = database_key
        self.integration = integration
        self.budget = budget
        self.window_seconds = window_seconds
        self.concurrency = concurrency
        self.slot_wait_seconds = slot_wait_seconds
        self._sleep = sleep

    def acquire(self, endpoint: str) -> AbstractContextManager[object]:
        return self._acquire(endpoint)

    @contextmanager
    def _acquire(self, endpoint: str) -> Iterator[object]:
        slot = ConcurrentRateLimiter(  # type: ignore[no-untyped-call]
            self.backend,
            f"{self.prefix}:{self.integration}:{endpoint.lower()}",
            limit=self.concurrency,
            ttl=SLOT_TTL_MS,
        )
        database = self.database_key()
        budget = WindowRateLimiter(  # type: ignore[no-untyped-call]
            self.backend,
            f"{self.prefix}:db:{database}",
            limit=self.budget,
            window=self.window_seconds,
        )
        with ExitStack() as stack:
            waited = 0.0
            while True:
                try:
                    stack.enter_context(slot.acquire())
                    break
                except RateLimitExceeded:
                    if waited >= self.slot_wait_seconds:
                        raise self._no_slot(endpoint) from None
                    self._sleep(SLOT_POLL_SECONDS)
                    waited += SLOT_POLL_SECONDS
            try:
                stack.enter_context(budget.acquire())
            except RateLimitExceeded:
                AUTOTASK_BUDGET_REMAINING.labels(database).set(0)
                raise self._spent(self.budget, self.window_seconds) from None
            report_budget(database, lambda: self._remaining(database))
            yield None

    def _remaining(self, database: str) -> int | None:
        use = budget_use(
            self.backend,
            database,
            budget=self.budget,
            window_seconds=self.window_seconds,
            prefix=self.prefix,
        )
        return use.remaining if use is not None else None


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """How much of a database's rolling-window request budget is spent now (N3)."""

    used: int
    limit: int
    window_seconds: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def budget_use(
    backend: RateLimiterBackend,
    database_key: str,
    *,
    budget: int = HOURLY_BUDGET,
    window_seconds: int = WINDOW_SECONDS,
    prefix: str = KEY_PREFIX,
) -> BudgetUse | None:
    """The requests `DramatiqLimiter` counted for `database_key` over the current window.

    Dramatiq's `WindowRateLimiter` keeps one counter per second, `<key>@<unix second>`, each
    expiring after the window; its own `_get_keys()` lists the window's keys, and its
    `_acquire` sums exactly those. This reads the same keys (one MGET on Redis) without
    counting a request. None for a backend whose counters cannot be read (e.g. memcached).
    """
    window = WindowRateLimiter(  # type: ignore[no-untyped-call]
        backend, f"{prefix}:db:{database_key}", limit=budget, window=window_seconds
    )
    keys: list[str] = window._get_keys()  # type: ignore[no-untyped-call]
    if isinstance(backend, RedisBackend):
        values: list[bytes | None] = backend.client.mget(keys)
        used = sum(int(v) for v in values if v)
    elif isinstance(backend, StubBackend):
        used = 0
        for key in keys:
            used += int(backend._get(key, default=0))  # type: ignore[no-untyped-call]
    else:
        return None
    return BudgetUse(used=used, limit=budget, window_seconds=window_seconds)


#: ConnectWise publishes no threshold; its Developer Guide says more than 1,000 requests a
#: minute will likely be limited (docs/connectwise.md, 7). Prism keeps below that, per
#: ConnectWise company (every worker and screen together), and at most 10 at a time per
#: endpoint; a 429 it still gets is honoured by the client's retries.
CONNECTWISE_BUDGET = 900
CONNECTWISE_WINDOW_SECONDS = 60
CONNECTWISE_CONCURRENCY = 10
CONNECTWISE_PREFIX = "prism:connectwise"


def connectwise_company_key(site: str, company_id: str) -> str:
    """One ConnectWise company's key in the limiter store: a hash of its site and company id
    (never its API keys), the same for every worker and screen."""
    return integration_key(f"{site}/{company_id.casefold()}")


def connectwise_limiter(
    backend: RateLimiterBackend, *, company: str, integration: str
) -> DramatiqLimiter:
    """The shared limiter of one ConnectWise company (keyed on a hash of site and company
    id, never the keys); a spent minute raises ConnectWise's own `RateLimitError`, which the
    sync reports as the PSA being unavailable and retries later."""

    def no_slot(endpoint: str) -> Exception:
        return ConnectWiseRateLimit(f"no free request slot for endpoint {endpoint}")

    def spent(budget: int, window_seconds: int) -> Exception:
        return ConnectWiseRateLimit(
            f"request budget of {budget} per {window_seconds}s spent",
            retry_after=float(window_seconds),
        )

    return DramatiqLimiter(
        backend,
        database_key=lambda: company,
        integration=integration,
        budget=CONNECTWISE_BUDGET,
        window_seconds=CONNECTWISE_WINDOW_SECONDS,
        concurrency=CONNECTWISE_CONCURRENCY,
        prefix=CONNECTWISE_PREFIX,
        no_slot=no_slot,
        spent=spent,
    )
