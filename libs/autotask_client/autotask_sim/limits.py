"""The API's limits as the server applies them: the rolling hourly budget per database and
the per-integration, per-endpoint thread limit."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class Budget:
    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    def count(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._times)

    def spend(self) -> float | None:
        """Count one request; None if allowed, else seconds until one is."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._times) >= self.limit:
                return max(0.0, self._times[0] + self.window - now)
            self._times.append(now)
            return None

    def preload(self, count: int) -> None:
        """Pretend ``count`` requests were just made (back door)."""
        with self._lock:
            now = self._clock()
            self._times = deque([now] * count)


class ThreadLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._in_flight: dict[tuple[str, str], int] = {}

    def enter(self, integration: str, endpoint: str) -> bool:
        key = (integration, endpoint.lower())
        with self._cond:
            if self._in_flight.get(key, 0) >= self.limit:
                return False
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            self._cond.notify_all()
            return True

    def leave(self, integration: str, endpoint: str) -> None:
        key = (integration, endpoint.lower())
        with self._cond:
            self._in_flight[key] -= 1
            self._cond.notify_all()

    def in_flight(self, endpoint: str) -> int:
        with self._cond:
            return sum(n for (_, e), n in self._in_flight.items() if e == endpoint.lower())

    def wait_for(self, endpoint: str, count: int, timeout: float) -> bool:
        """Block until ``count`` requests to ``endpoint`` are in flight (for tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight_locked(endpoint) >= count, timeout)

    def _in_flight_locked(self, endpoint: str) -> int:
        return sum(n for (_, e), n in self._in_flight.items() if e == endpoint.lower())
