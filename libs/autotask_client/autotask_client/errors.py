"""The exception tree, keyed by what a failure means rather than by status code.

Autotask reports many distinct failures as HTTP 500 with an ``errors`` list (unknown user,
bad integration code, missing permission, business-rule violations), so the status alone
cannot tell a caller what to do. Every exception keeps the status, the decoded ``errors``
list and ``errorId`` so nothing the API said is lost. Credentials never reach a message:
only the method and the path (never headers or the query string) are quoted.
"""

from __future__ import annotations

from typing import Any

import httpx

from prism_http.errors import ApiError, error_body, retry_after_of, status_text
from prism_http.errors import parse_retry_after as parse_retry_after  # still importable here

# Phrases the API is known to put in its ``errors`` list (AUTOTASK.md §2, §5, and the
# PRISM Connect seed). Matched case-insensitively as substrings.
ZONE_NOT_FOUND_TEXT = "zone information could not be determined"
INVALID_INTEGRATION_CODE_TEXT = "integrationcode is invalid"
PERMISSION_TEXT = "does not have the adequate permissions"
NO_MATCHING_RECORDS_TEXT = "no matching records found"
DUPLICATE_KEY_TEXT = "violation of unique key constraint"
UNEXPECTED_ERROR_TEXT = "an unexpected error has occurred"
# How Autotask names an API user that cannot sign in whatever the secret. For a lock the
# text is on record ("The user account has been locked. ..."); for an inactive user it is
# UNCONFIRMED, so the plausible wordings are matched.
USER_LOCKED_TEXTS = ("account has been locked", "account is locked", "user is locked")
USER_INACTIVE_TEXTS = (
    "account is inactive",
    "account is not active",
    "user is inactive",
    "user is not active",
    "account has been deactivated",
    "account has been disabled",
)
THRESHOLD_TEXTS = ("threshold", "thread limit", "rate limit")
CONTRACT_RULE_TEXTS = (
    "effectivedate must be between",
    "recurring service",
    "contract referenced by contractid is not active",
)


class AutotaskError(ApiError):
    """Base of everything the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[str] | None = None,
        error_id: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, status=status, method=method, path=path, body=body)
        self.errors: list[str] = list(errors or [])
        self.error_id = error_id


class TransportError(AutotaskError):
    """The request did not get an HTTP answer (connection refused, reset, DNS...)."""

    retryable = True


class RequestTimeoutError(TransportError):
    """No answer in time. The server may still have executed the request."""


class APIStatusError(AutotaskError):
    """The API answered with a non-success status."""


class AuthenticationError(APIStatusError):
    """401: wrong secret, or the wrong zone; or a locked or inactive API user when the
    answer does not say so (then it is not a :class:`UserDisabledError`)."""


class UserDisabledError(AuthenticationError):
    """Autotask said the API user itself cannot sign in, whatever the secret.

    Only an administrator in the Autotask UI can change that (Admin > Resources (Users)):
    repeating the request, or asking for the zone again, cannot help.
    """


class UserLockedError(UserDisabledError):
    """The API user is locked, typically after repeated sign-ins with a wrong secret."""


class UserInactiveError(UserDisabledError):
    """The API user is not active."""


class ZoneNotFoundError(APIStatusError):
    """The username is unknown: Autotask answers 500 'Zone information could not be determined'."""


class InvalidIntegrationCodeError(APIStatusError):
    """Valid user and secret but the ApiIntegrationCode (tracking identifier) is wrong."""


class PermissionDeniedError(APIStatusError):
    """403, or the 500 Autotask sends when the security level lacks a permission."""


class NotFoundError(APIStatusError):
    """No such record (404, or 500 'No matching records found')."""


class MethodNotAllowedError(APIStatusError):
    """405: e.g. a GET on a POST query's nextPageUrl."""


class ValidationError(APIStatusError):
    """The API refused the data: 400, or 500 with an ``errors`` list naming a rule.

    Never retried: the same body gets the same answer.
    """


class DuplicateKeyError(ValidationError):
    """A unique key was violated, e.g. a Service with an existing name (IX_service)."""


class ContractRuleError(ValidationError):
    """A contract-service write broke a contract rule (type, status, effective date)."""


class RateLimitError(APIStatusError):
    """The hourly request threshold or the per-endpoint thread limit was hit."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class BudgetExhaustedError(RateLimitError):
    """Raised by a local limiter before sending: the request budget is spent."""


class ServerError(APIStatusError):
    """5xx without a decodable rule violation: the server failed, the request may be retried."""

    retryable = True


class UnexpectedServerError(ServerError):
    """500 'An unexpected error has occurred ... Error ID: N'.

    Autotask sends it for malformed payloads as well as for outages, so it is not retried.
    """

    retryable = False


class InvalidResponseError(AutotaskError):
    """A success status whose body is not what the API documents."""


def decode_errors(body: Any) -> tuple[list[str], int | None]:
    """Pull the ``errors`` list and ``errorId`` out of any of the API's error bodies."""
    if not isinstance(body, dict):
        return [], None
    errors: list[str] = []
    raw = next((v for k, v in body.items() if str(k).lower() == "errors"), None)
    if isinstance(raw, list):
        errors = [str(e) for e in raw]
    elif isinstance(raw, str):
        errors = [raw]
    # ASP.NET framework answers (405 and friends) use {"Message": "..."}.
    for key in ("Message", "message"):
        if not errors and isinstance(body.get(key), str):
            errors = [body[key]]
    error_id = next((v for k, v in body.items() if str(k).lower() == "errorid"), None)
    return errors, error_id if isinstance(error_id, int) else None


def _has(errors: list[str], *needles: str) -> bool:
    text = " ".join(errors).lower()
    return any(n in text for n in needles)


def error_from_response(response: httpx.Response, *, method: str, path: str) -> APIStatusError:
    """Classify an error answer by meaning."""
    body = error_body(response)
    errors, error_id = decode_errors(body)
    status = response.status_code
    message = "; ".join(errors) if errors else status_text(response)
    kw: dict[str, Any] = {
        "status": status,
        "errors": errors,
        "error_id": error_id,
        "method": method,
        "path": path,
        "body": body,
    }

    # Checked before the status: how Autotask signals a locked user is UNCONFIRMED beyond
    # its words (401 most likely, 403 or 500 plausible).
    if status in (401, 403, 500) and _has(errors, *USER_LOCKED_TEXTS):
        return UserLockedError(message, **kw)
    if status in (401, 403, 500) and _has(errors, *USER_INACTIVE_TEXTS):
        return UserInactiveError(message, **kw)
    if status == 401:
        return AuthenticationError(message, **kw)
    if status == 403 or _has(errors, PERMISSION_TEXT):
        return PermissionDeniedError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 405:
        return MethodNotAllowedError(message, **kw)
    if status == 429 or (errors and _has(errors, *THRESHOLD_TEXTS)):
        return RateLimitError(message, retry_after=retry_after_of(response), **kw)
    if _has(errors, ZONE_NOT_FOUND_TEXT):
        return ZoneNotFoundError(message, **kw)
    if _has(errors, INVALID_INTEGRATION_CODE_TEXT):
        return InvalidIntegrationCodeError(message, **kw)
    if _has(errors, NO_MATCHING_RECORDS_TEXT):
        return NotFoundError(message, **kw)
    if _has(errors, UNEXPECTED_ERROR_TEXT):
        return UnexpectedServerError(message, **kw)
    if _has(errors, DUPLICATE_KEY_TEXT):
        return DuplicateKeyError(message, **kw)
    if _has(errors, *CONTRACT_RULE_TEXTS):
        return ContractRuleError(message, **kw)
    if 400 <= status < 500 or (status == 500 and errors):
        return ValidationError(message, **kw)
    return ServerError(message, **kw)
