"""When and how long to wait before repeating a request.

Only requests that are safe to repeat are retried: reads (GET, and POST queries, which
read), and absolute updates by id (PATCH/PUT/DELETE by id, so applying them twice leaves the
same state). A create is never repeated: if the answer was lost the record may exist, and the
caller must look before writing again. Server errors back off exponentially with jitter; a
429's ``Retry-After`` seconds are honoured (docs/connectwise.md §7).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

#: Attempts after the first one.
DEFAULT_MAX_RETRIES = 3
#: First backoff; doubles on each attempt.
INITIAL_BACKOFF_SECONDS = 0.5
#: Backoff never grows beyond this.
MAX_BACKOFF_SECONDS = 8.0
#: A Retry-After longer than this is not waited out in-process; the error is raised so a
#: worker can reschedule instead of holding a thread for an hour.
MAX_RETRY_AFTER_SECONDS = 60.0
#: Share of the delay that is randomised, so workers that failed together do not retry together.
JITTER_FRACTION = 0.25


class Idempotency(Enum):
    """What repeating a request would do."""

    READ = "read"
    ABSOLUTE_UPDATE = "absolute-update"
    CREATE = "create"

    @property
    def retryable(self) -> bool:
        return self is not Idempotency.CREATE


@dataclass
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    initial_backoff: float = INITIAL_BACKOFF_SECONDS
    max_backoff: float = MAX_BACKOFF_SECONDS
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS
    jitter: float = JITTER_FRACTION
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based), with jitter."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 1))
        spread = base * self.jitter
        return max(0.0, base - spread + self.rng.random() * 2 * spread)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait, or None when the server asks for longer than the cap."""
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return max(retry_after, 0.0)
        return self.backoff(attempt)


NO_RETRIES = RetryPolicy(max_retries=0)
