"""What both PSA clients' error trees share: the base of their exceptions and the reading of
an error answer's status, ``Retry-After`` and body.

Each client keeps its own tree (its classes are what callers catch) and its own decoding of
what the vendor puts in a body; only the parts that are the same for any HTTP API live here.
Credentials never reach a message: only the method and the path (never headers or the query
string) are quoted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class ApiError(Exception):
    """Base of each PSA client's base exception."""

    #: Whether repeating the same request can succeed; the retry loop reads it.
    retryable: bool = False
    #: Seconds the server asked to wait before a repeat (a 429's ``Retry-After``), if any.
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = body

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method and self.path else ""
        status = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{status}{self.message}{where}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_after_of(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds, when it gives one."""
    return parse_retry_after(response.headers.get("Retry-After"))


def error_body(response: httpx.Response) -> Any:
    """An error answer's body: decoded JSON, the text when it is not JSON, None when empty."""
    try:
        return response.json() if response.content else None
    except ValueError:
        return response.text


def status_text(response: httpx.Response) -> str:
    """What to call an error answer whose body says nothing: its reason phrase."""
    return response.reason_phrase or f"HTTP {response.status_code}"
