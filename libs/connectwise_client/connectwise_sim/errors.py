"""How the simulator answers a failure, in ConnectWise's envelope.

``{"code": ..., "message": ..., "errors": [{"code", "message", "resource", "field"}]}``
(docs/connectwise.md §6). Texts marked documented are on record; the others are the
simulator's own wording.
"""

from __future__ import annotations

from typing import Any

# Documented texts and codes.
SSL_REQUIRED = "SSL is required."
SECURITY = "You do not have security permission to perform this action."
TOO_MANY = "Too many requests. Please try again in {seconds} seconds."


def max_length(field: str, length: int) -> str:
    # Documented: "The field summary must be a string with a maximum length of 100."
    return f"The field {field} must be a string with a maximum length of {length}."


# The simulator's own wording (UNCONFIRMED).
UNAUTHORIZED = "The supplied credentials are incorrect."
NO_CLIENT_ID = "A clientId header is required."
REQUIRED = "{field} is required."
NOT_FOUND_RECORD = "{resource} with id {id} was not found."
REF_NOT_FOUND = "{what} {id} not found."
DUPLICATE_IDENTIFIER = "The identifier {value} is already in use."
BAD_ENUM = "{field} must be one of: {allowed}."
BAD_VALUE = "{field} has an invalid value."
CANCELLED_BEFORE_EFFECTIVE = "cancelledDate must be on or after effectiveDate."
BEFORE_AGREEMENT = "effectiveDate must be on or after the agreement's start date."
BILLED_CHANGE = (
    "{field} cannot be changed: the addition has been billed through {through}. "
    "Cancel it and add a new addition instead."
)
BILLED_CANCEL = "cancelledDate cannot fall before {through}, the day the agreement is billed to."
BAD_PATCH = "The patch operation is invalid: {why}"
BAD_FILTER = "The conditions could not be parsed: {why}"
ORDER_BY_FORWARD_ONLY = "orderBy cannot be used with forward-only pagination."
PAGE_SIZE = "pageSize must be between 1 and {max}."
NO_RESOURCE = "No resource was found at this URL."
METHOD = "The method {method} is not supported by this resource."


class ApiFailure(Exception):
    """Raised inside a handler; becomes an HTTP answer."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def failure(
    status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None
) -> ApiFailure:
    return ApiFailure(status, {"code": code, "message": message, "errors": errors})


def detail(code: str, message: str, resource: str, field: str) -> dict[str, Any]:
    return {"code": code, "message": message, "resource": resource, "field": field}


def invalid(resource: str, errors: list[dict[str, Any]]) -> ApiFailure:
    """Documented shape: ``{"code": "InvalidObject", "message": "ticket object is invalid"}``."""
    return failure(400, "InvalidObject", f"{resource} object is invalid", errors)


def not_found(resource: str, id: object) -> ApiFailure:
    return failure(404, "NotFound", NOT_FOUND_RECORD.format(resource=resource, id=id))


def bad_request(message: str) -> ApiFailure:
    return failure(400, "InvalidRequest", message)
