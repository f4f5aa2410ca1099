"""The base both PSA clients are built on: a connection pool, a retry policy, an observer.

A client names its :class:`~prism_http.attempts.Vendor` (log and error classes), says where
its API lives (:meth:`ApiClient.base_url`) and prepares each request; sending, observing and
retrying are :func:`~prism_http.attempts.send_with_retries`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import ClassVar, Self

import httpx

from prism_http.attempts import (
    Answered,
    Outgoing,
    RequestObserver,
    Vendor,
    never_repeat_at_once,
    no_slot,
    send_with_retries,
)
from prism_http.errors import ApiError
from prism_http.retry import Idempotency, RetryPolicy


class ApiClient(ABC):
    """Owns the ``httpx.Client`` only when it made it, and closes only that one."""

    _vendor: ClassVar[Vendor]

    def __init__(
        self,
        *,
        http: httpx.Client | None,
        timeout: float,
        retry: RetryPolicy | None,
        observe: RequestObserver | None,
        scrub: Callable[[str], str],
    ) -> None:
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self.retry = retry or RetryPolicy()
        self.observe = observe
        self._scrub = scrub

    @abstractmethod
    def base_url(self) -> str:
        """Where a relative path starts; ends with ``/``."""

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url() + path.lstrip("/")

    def _attempt(
        self,
        prepare: Callable[[], Outgoing],
        *,
        endpoint: str,
        idempotency: Idempotency,
        slot: Callable[[], AbstractContextManager[object]] = no_slot,
        repeat_at_once: Callable[[ApiError], bool] = never_repeat_at_once,
    ) -> Answered:
        """Send ``prepare``'s request until answered; see :func:`send_with_retries`."""
        return send_with_retries(
            self._vendor,
            self._http,
            prepare,
            endpoint=endpoint,
            idempotency=idempotency,
            retry=self.retry,
            observe=self.observe,
            scrub=self._scrub,
            slot=slot,
            repeat_at_once=repeat_at_once,
        )
