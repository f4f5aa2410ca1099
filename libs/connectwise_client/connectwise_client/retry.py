"""When and how long to wait before repeating a request.

ConnectWise's Developer Guide asks for exponential backoff with jitter on server errors and
for the ``Retry-After`` seconds of a 429 to be honoured; client errors are not repeated
(docs/connectwise.md §7). Only requests that are safe to repeat are: reads, and PATCH/PUT/
DELETE by id (applying them twice leaves the same state). A create (POST) is never repeated:
if the answer was lost the record may exist, and the caller must look before writing again.

The same policy as ``autotask_client.retry``; the two clients sit side by side in one layer
and do not import each other.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

DEFAULT_MAX_RETRIES = 3
INITIAL_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
#: A Retry-After longer than this is not waited out in-process: the error is raised so a
#: worker can reschedule instead of holding a thread.
MAX_RETRY_AFTER_SECONDS = 60.0
JITTER_FRACTION = 0.25


class Idempotency(Enum):
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
