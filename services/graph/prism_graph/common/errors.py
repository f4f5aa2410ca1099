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
from prism_graph.common.enums import described_enum

log = logging.getLogger(__name__)

ErrorCode = described_enum(
    DomainErrorCode,
    name="ErrorCode",
    description="Why an input was refused: a stable code to branch on, beside the message for "
    "people. Nothing was changed.",
    values={
        "REQUIRED": "A value is needed here and none (or only blanks) was given.",
        "INVALID": "The value is not of the expected form, e.g. an e-mail address, a domain, "
        "a time zone, a date or an id of the wrong type.",
        "TOO_LONG": "The text is longer than allowed; the message gives the limit.",
        "TOO_SHORT": "The text is shorter than allowed; the message gives the limit.",
        "DUPLICATE": "Another record has this value already (a name, a domain, an e-mail "
        "address, a SKU).",
        "NOT_FOUND": "No such record, or one you may not see: another tenant's ids are "
        "answered like ids that do not exist.",
        "INVALID_CREDENTIALS": "The e-mail address and password do not match an active user "
        "(an unknown address gets the same answer).",
        "THROTTLED": "Too many attempts in a short time; wait and try again.",
        "EXPIRED": "The link or token has expired; ask for a new one.",
        "ALREADY_USED": "The single-use link or token was used already.",
        "REPLACED": "The single-use link was replaced by a newer one (a re-send): use the "
        "latest link.",
        "WEAK_PASSWORD": "The password is too short or too easy to guess.",
        "NOT_ALLOWED": "The request is understood but breaks a rule of the product, e.g. "
        "deactivating yourself or removing an account's primary contact; the message says "
        "which.",
        "CONFLICT": "The record is not in a state that allows this (e.g. an order already "
        "submitted, a month already invoiced, a user who has accepted), or it changed "
        "meanwhile: load it again.",
        "OUT_OF_RANGE": "A number or date outside what is allowed, e.g. a quantity below the "
        "minimum or a date before a subscription starts.",
        "CURRENCY_MISMATCH": "A product priced in another currency than the order.",
        "BELOW_COST": "A price below the buy price: the product would sell at a loss.",
        "RETIRED": "The product or program is retired and takes nothing new.",
        "LAST_CONTACT_OF_TYPE": "The contact is the last one of a contact type the account "
        "must keep: add another of that type first.",
        "LIMIT_REACHED": "The account has as many contacts as it may have; delete one first.",
        "WRONG_DOMAIN": "A primary or billing contact's address must be on the partner's (or "
        "customer's) domain.",
        "NOT_VERIFIED": "The contact has not verified their e-mail address yet.",
        "CONFIRMATION_REQUIRED": "The change has consequences: send it again with the "
        "confirmation the message names (e.g. `confirm: true`).",
        "PSA_NOT_CONNECTED": "The partner has not connected the PSA (Autotask or ConnectWise) "
        "this needs yet.",
        "PSA_UNKNOWN_USER": "The PSA knows no such sign-in: Autotask no API user with this "
        "username, ConnectWise no company with this company id.",
        "PSA_WRONG_SECRET": "The PSA refused the credentials: check the secret (Autotask) or "
        "the key pair (ConnectWise).",
        "PSA_USER_LOCKED": "Autotask says the API user is locked: an Autotask administrator "
        "must unlock it.",
        "PSA_USER_INACTIVE": "The PSA says the API user (Autotask) or member (ConnectWise) is "
        "not active.",
        "PSA_INVALID_INTEGRATION_CODE": "Autotask refused the integration code (the API "
        "tracking identifier), or ConnectWise refused this server's clientId.",
        "PSA_PERMISSION_DENIED": "The API user's security level (Autotask) or the member's "
        "security role (ConnectWise) does not allow what the sync needs.",
        "PSA_UNAVAILABLE": "The PSA could not be reached or answered with an error; try again "
        "later.",
    },
)


@strawberry.type(description="An expected failure, tied to the input field that caused it.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault, as a dotted path; null for the input as a whole."
    )
    code: ErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="Why it was refused, as a stable code to branch on."
    )
    message: str = strawberry.field(
        description="What went wrong and what to do, in words to show to people."
    )


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
