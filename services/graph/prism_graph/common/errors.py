"""The API's error format (docs/architecture.md, ADR-4).

Expected failures are data: a mutation payload's `errors: [UserError!]!`, each with `field`,
a `code` from the domain's `ErrorCode`, and a `message` for people. Requests the API cannot
serve at all raise a `PublicError`, whose message is shown as is with an `extensions.code`;
every other exception is logged and masked as "Unexpected error.".
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError

from prism_domain.errors import ErrorCode as DomainErrorCode
from prism_domain.errors import FieldError

log = logging.getLogger(__name__)

ErrorCode = strawberry.enum(
    DomainErrorCode, name="ErrorCode", description="Why an input was refused."
)


@strawberry.type(description="An expected failure, tied to the input field that caused it.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault, as a dotted path; null for the input as a whole."
    )
    code: ErrorCode  # type: ignore[valid-type]
    message: str


def user_errors(errors: list[FieldError], prefix: str | None = "input") -> list[UserError]:
    def path(field: str | None) -> str | None:
        if field is None:
            return prefix
        return f"{prefix}.{field}" if prefix else field

    return [UserError(field=path(e.field), code=e.code, message=e.message) for e in errors]


class PublicError(Exception):
    """An error whose message is safe and useful to show to the client."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions = {"code": self.code, **extensions}


class BadRequest(PublicError):
    code = "BAD_REQUEST"


class ServiceUnavailable(PublicError):
    code = "SERVICE_UNAVAILABLE"

    @classmethod
    def from_db_error(cls, exc: BaseException) -> ServiceUnavailable:
        log.error("database unavailable: %s", type(exc).__name__)
        return cls("The database is unavailable; try again shortly.")


def should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or error.path is None:
        # Syntax, validation and variable errors from the GraphQL engine itself: they come
        # before any resolver and say what is wrong with the request (e.g. an unknown enum).
        return False
    if isinstance(original, PublicError):
        error.extensions = {**(error.extensions or {}), **original.extensions}
        return False
    return True


PAYLOAD_ERRORS = (
    "Why the request was refused; empty when it succeeded. When not empty, nothing changed."
)


def errors_field() -> Any:
    """A payload's `errors: [UserError!]!` field, described the same way everywhere."""
    return strawberry.field(description=PAYLOAD_ERRORS)
