"""One request, attempted until it is answered, refused for good or out of retries.

Both PSA clients send through :func:`send_with_retries`: each attempt is prepared afresh
(headers, and a URL that may change, e.g. after Autotask's zone moved), sent, told to the
client's observer, and an error answer is turned into the client's own typed error by the
classifier the client supplies. Only an error that says a repeat can succeed is repeated, and
only for a request that is safe to repeat (:class:`~prism_http.retry.Idempotency`), after the
policy's back-off or the server's ``Retry-After``. It knows no PSA: the :class:`Vendor` a
client passes names its log and its error classes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from prism_http.errors import ApiError
from prism_http.retry import Idempotency, RetryPolicy

#: Told of every HTTP request sent: ``(endpoint, outcome, seconds)``, where the outcome is
#: the HTTP status (``"200"``, ``"429"``), ``"timeout"`` or ``"error"`` (no answer); e.g. to
#: count requests in metrics. Never given the URL or anything from the credentials.
RequestObserver = Callable[[str, str, float], None]


class Classifier(Protocol):
    """Turns an error answer into the client's typed error."""

    def __call__(self, response: httpx.Response, *, method: str, path: str) -> ApiError: ...


@dataclass(frozen=True)
class Vendor:
    """What a client names its own: its log (lines open with ``name``) and its errors."""

    name: str
    log: logging.Logger
    classify: Classifier
    #: Raised when no answer came in time; the server may still have done the work.
    timed_out: type[ApiError]
    #: Raised when no answer came at all (refused, reset, DNS...).
    unanswered: type[ApiError]
    #: Raised when a success answer's body is not JSON.
    invalid: type[ApiError]


@dataclass(frozen=True)
class Outgoing:
    """One attempt's request, as the client prepares it."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any = None
    params: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        """What messages and logs may quote: neither the host nor the query string."""
        return urlsplit(self.url).path


@dataclass(frozen=True)
class Answered:
    """The success answer and the attempt that got it."""

    sent: Outgoing
    response: httpx.Response

    def json(self, vendor: Vendor) -> Any:
        """The decoded body (see :func:`success_json`)."""
        return success_json(
            self.response, vendor.invalid, method=self.sent.method, path=self.sent.path
        )


def success_json(
    response: httpx.Response, invalid: type[ApiError], *, method: str, path: str
) -> Any:
    """A success answer's decoded body, None when empty; ``invalid`` raised when not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise invalid(
            "success answer is not JSON", status=response.status_code, method=method, path=path
        ) from exc


def never_repeat_at_once(error: ApiError) -> bool:
    return False


def no_slot() -> AbstractContextManager[object]:
    return nullcontext()


def send_with_retries(
    vendor: Vendor,
    http: httpx.Client,
    prepare: Callable[[], Outgoing],
    *,
    endpoint: str,
    idempotency: Idempotency,
    retry: RetryPolicy,
    observe: RequestObserver | None,
    scrub: Callable[[str], str],
    slot: Callable[[], AbstractContextManager[object]] = no_slot,
    repeat_at_once: Callable[[ApiError], bool] = never_repeat_at_once,
) -> Answered:
    """Send until a success answer, then return it; raise the vendor's typed error otherwise.

    ``slot`` is held around each attempt (e.g. a concurrency limit) and is not timed.
    ``repeat_at_once`` may ask for one more attempt, neither counted nor delayed, after an
    error answer that a fresh :func:`prepare` can cure (it sees every error answer).
    ``scrub`` takes credentials out of the text of a failure to connect.
    """
    attempt = 0
    while True:
        sent = prepare()
        error: ApiError
        try:
            with slot():
                response = _observed(http, sent, endpoint, observe)
        except httpx.TimeoutException as exc:
            error = vendor.timed_out(
                f"no answer in time ({type(exc).__name__})", method=sent.method, path=sent.path
            )
        # The httpx exception is not chained: its text can carry a query string (Autotask's
        # zone lookup names the user) and credentials stay out of everything raised.
        except httpx.TransportError as exc:
            error = vendor.unanswered(
                scrub(f"{type(exc).__name__}: {exc}"), method=sent.method, path=sent.path
            )
        else:
            vendor.log.debug(
                "%s %s %s -> %s", vendor.name, sent.method, sent.path, response.status_code
            )
            if response.is_success:
                return Answered(sent, response)
            error = vendor.classify(response, method=sent.method, path=sent.path)
            if repeat_at_once(error):
                continue

        attempt += 1
        if not (error.retryable and idempotency.retryable) or attempt > retry.max_retries:
            raise error
        delay = retry.delay(attempt, error.retry_after)
        if delay is None:
            raise error
        vendor.log.info(
            "%s %s %s: %s; retry %d in %.2fs",
            vendor.name,
            sent.method,
            sent.path,
            error,
            attempt,
            delay,
        )
        retry.sleep(delay)


def _observed(
    http: httpx.Client, sent: Outgoing, endpoint: str, observe: RequestObserver | None
) -> httpx.Response:
    started = time.perf_counter()

    def heard(outcome: str) -> None:
        if observe is not None:
            observe(endpoint, outcome, time.perf_counter() - started)

    try:
        response = http.request(
            sent.method, sent.url, json=sent.json, params=sent.params, headers=sent.headers
        )
    except httpx.TimeoutException:
        heard("timeout")
        raise
    except httpx.TransportError:
        heard("error")
        raise
    heard(str(response.status_code))
    return response
