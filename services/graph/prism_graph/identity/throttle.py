"""Login throttling per account and per client address (N2), with Dramatiq's window rate
limiters: Redis-backed when REDIS_URL is set (shared by every API process), in memory
otherwise."""

from __future__ import annotations

from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backend import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

WINDOW_SECONDS = 15 * 60


def make_backend(redis_url: str | None) -> RateLimiterBackend:
    backend: RateLimiterBackend = (
        RedisBackend(url=redis_url) if redis_url else StubBackend()  # type: ignore[no-untyped-call]
    )
    return backend


class LoginThrottle:
    def __init__(
        self,
        backend: RateLimiterBackend,
        *,
        per_account: int,
        per_address: int,
        namespace: str = "prism",
    ) -> None:
        self._backend = backend
        self._per_account = per_account
        self._per_address = per_address
        self._namespace = namespace

    def allow(self, email: str, address: str | None) -> bool:
        """Count one attempt; False when the account or the address is over its limit."""
        checks = [(f"{self._namespace}:login:account:{email.lower()}", self._per_account)]
        if address:
            checks.append((f"{self._namespace}:login:address:{address}", self._per_address))
        allowed = True
        for key, limit in checks:
            limiter = WindowRateLimiter(  # type: ignore[no-untyped-call]
                self._backend, key, limit=limit, window=WINDOW_SECONDS
            )
            with limiter.acquire(raise_on_failure=False) as acquired:
                allowed = allowed and bool(acquired)
        return allowed
