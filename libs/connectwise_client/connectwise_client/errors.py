"""The exception tree, keyed by what a failure means.

ConnectWise answers a refusal with a status and a body ``{"code", "message", "errors"}``,
where ``errors`` (often null) lists ``{"code", "message", "resource", "field"}`` per broken
rule (docs/connectwise.md §6). Every exception keeps the status, the top-level code and the
decoded details so nothing the API said is lost. Credentials never reach a message: only
the method and the path (never headers or the query string) are quoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from prism_http.errors import ApiError, error_body, retry_after_of, status_text
from prism_http.errors import parse_retry_after as parse_retry_after  # still importable here


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of a refusal's ``errors`` list."""

    code: str | None
    message: str
    resource: str | None = None
    field: str | None = None


class ConnectWiseError(ApiError):
    """Base of everything the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: list[ErrorDetail] | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, status=status, method=method, path=path, body=body)
        self.code = code
        self.details: list[ErrorDetail] = list(details or [])

    def fields(self) -> set[str]:
        """The fields the API named as wrong (``product/id``, ``identifier``)."""
        return {d.field for d in self.details if d.field}


class TransportError(ConnectWiseError):
    """The request got no HTTP answer (connection refused, reset, DNS...)."""

    retryable = True


class RequestTimeoutError(TransportError):
    """No answer in time. The server may still have executed the request."""


class CompanyNotFoundError(ConnectWiseError):
    """``/login/companyinfo/{companyId}`` does not know the company id."""


class InvalidResponseError(ConnectWiseError):
    """A success status whose body is not what the API documents."""


class APIStatusError(ConnectWiseError):
    """The API answered with a non-success status."""


class AuthenticationError(APIStatusError):
    """401: wrong keys, an unknown company id, or no clientId."""


class PermissionDeniedError(APIStatusError):
    """403: the API member's security role lacks the right (code ``Security``)."""


class NotFoundError(APIStatusError):
    """404: no such record (or URL)."""


class MethodNotAllowedError(APIStatusError):
    """405: the URL does not take that method."""


class ValidationError(APIStatusError):
    """400: the API refused the request or its data; never retried."""


class DuplicateError(ValidationError):
    """A value that must be unique is taken (a catalog item's identifier)."""


class ConflictError(APIStatusError):
    """409: the record is in use or in another conflict."""


class RateLimitError(APIStatusError):
    """429 Too Many Requests, with the ``Retry-After`` seconds when given."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the Developer Guide calls these transient and asks for retries."""

    retryable = True


#: Detail codes that say a unique value is taken. The simulator's code; the real one is
#: UNCONFIRMED, so the message is matched too.
DUPLICATE_CODES = frozenset({"Duplicate", "DuplicateValue", "UniqueIdentifier"})
DUPLICATE_TEXTS = ("already exists", "already in use", "must be unique")


def decode(body: Any) -> tuple[str | None, str | None, list[ErrorDetail]]:
    """``(code, message, details)`` of any of the API's error bodies."""
    if not isinstance(body, dict):
        return None, None, []
    code = body.get("code") if isinstance(body.get("code"), str) else None
    if code is None and isinstance(body.get("error"), str):
        code = body["error"]  # the documented 429 body: {"error": ..., "message": ...}
    message = body.get("message") if isinstance(body.get("message"), str) else None
    details: list[ErrorDetail] = []
    raw = body.get("errors")
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict):
                details.append(
                    ErrorDetail(
                        code=_text(item.get("code")),
                        message=_text(item.get("message")) or "",
                        resource=_text(item.get("resource")),
                        field=_text(item.get("field")),
                    )
                )
            elif isinstance(item, str):
                details.append(ErrorDetail(code=None, message=item))
    return code, message, details


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def error_from_response(response: httpx.Response, *, method: str, path: str) -> APIStatusError:
    """Classify an error answer by its status, then by its codes."""
    body = error_body(response)
    code, message, details = decode(body)
    status = response.status_code
    text = message or "; ".join(d.message for d in details if d.message)
    text = text or status_text(response)
    if details and message:
        text = f"{message}: " + "; ".join(d.message for d in details if d.message)
    kw: dict[str, Any] = {
        "status": status,
        "code": code,
        "details": details,
        "method": method,
        "path": path,
        "body": body,
    }
    if status == 401:
        return AuthenticationError(text, **kw)
    if status == 403:
        return PermissionDeniedError(text, **kw)
    if status == 404:
        return NotFoundError(text, **kw)
    if status == 405:
        return MethodNotAllowedError(text, **kw)
    if status == 409:
        return ConflictError(text, **kw)
    if status == 429:
        return RateLimitError(text, retry_after=retry_after_of(response), **kw)
    if 400 <= status < 500:
        lowered = text.lower()
        if any(d.code in DUPLICATE_CODES for d in details) or any(
            t in lowered for t in DUPLICATE_TEXTS
        ):
            return DuplicateError(text, **kw)
        return ValidationError(text, **kw)
    return ServerError(text, **kw)
