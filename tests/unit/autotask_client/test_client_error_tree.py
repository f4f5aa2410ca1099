from __future__ import annotations

import httpx
import pytest

from autotask_client import (
    AuthenticationError,
    AutotaskError,
    ContractRuleError,
    DuplicateKeyError,
    InvalidIntegrationCodeError,
    MethodNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedServerError,
    UserDisabledError,
    UserInactiveError,
    UserLockedError,
    ValidationError,
    ZoneNotFoundError,
)
from autotask_client.errors import error_from_response

pytestmark = pytest.mark.unit

DUPLICATE = (
    "Violation of UNIQUE KEY constraint 'IX_service'. Cannot insert duplicate key in object "
    "'dbo.Service'. The duplicate key value is (PC_sku_1357). Error updating database for new "
    "entity records."
)
LOCKED = "The user account has been locked.  Please see your Autotask Administrator for details."
OUTSIDE = (
    "ContractServiceAdjustment effectiveDate must be between the start date and end date of the "
    "Contract referenced by contractID."
)


def answer(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request(
        "POST", "https://webservices14.autotask.net/ATServicesRest/V1.0/Services"
    )
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, None, AuthenticationError),
        (401, {"errors": ["Unauthorized"]}, AuthenticationError),
        (401, {"errors": [LOCKED]}, UserLockedError),
        (403, {"errors": [LOCKED]}, UserLockedError),
        (500, {"errors": [LOCKED]}, UserLockedError),
        (401, {"Message": "The API user is locked."}, UserLockedError),
        (401, {"errors": ["The user account is inactive."]}, UserInactiveError),
        (401, {"errors": ["This user is not active."]}, UserInactiveError),
        (
            500,
            {"errors": ["The Contract referenced by contractID is not active."]},
            ContractRuleError,
        ),
        (500, {"errors": ["Zone information could not be determined"]}, ZoneNotFoundError),
        (500, {"errors": ["IntegrationCode is invalid."]}, InvalidIntegrationCodeError),
        (403, None, PermissionDeniedError),
        (
            500,
            {
                "errors": [
                    "The logged in Resource does not have the adequate permissions "
                    "to create this entity type."
                ]
            },
            PermissionDeniedError,
        ),
        (404, None, NotFoundError),
        (
            500,
            {"errors": ["No matching records found. The operation was not performed."]},
            NotFoundError,
        ),
        (
            405,
            {"Message": "The requested resource does not support http method 'GET'."},
            MethodNotAllowedError,
        ),
        (429, {"errors": ["Thread limit exceeded"]}, RateLimitError),
        (500, {"errors": ["Request threshold exceeded"]}, RateLimitError),
        (500, {"errors": [DUPLICATE]}, DuplicateKeyError),
        (500, {"errors": [OUTSIDE]}, ContractRuleError),
        (500, {"errors": ["Missing required field: name"]}, ValidationError),
        (400, {"errors": ["MaxRecords must be between 1 and 500"]}, ValidationError),
        (
            500,
            {
                "errors": [
                    "An unexpected error has occurred.  If the problem persists, please contact "
                    "Autotask Support and reference Error ID: 54634."
                ],
                "errorId": 54634,
            },
            UnexpectedServerError,
        ),
        (500, None, ServerError),
        (502, None, ServerError),
        (503, "<html>busy</html>", ServerError),
    ],
)
def test_errors_are_classified_by_meaning(
    status: int, body: object, kind: type[AutotaskError]
) -> None:
    error = error_from_response(
        answer(status, body), method="POST", path="/ATServicesRest/V1.0/Services"
    )
    assert type(error) is kind
    assert error.status == status


def test_a_disabled_user_is_an_authentication_error_that_no_retry_or_new_zone_can_fix(
    make_client, sleeps: list[float]
) -> None:
    client, rec = make_client(lambda r: httpx.Response(401, json={"errors": [LOCKED]}))

    with pytest.raises(UserLockedError) as caught:
        client.companies.get(0)

    assert isinstance(caught.value, UserDisabledError)
    assert isinstance(caught.value, AuthenticationError)  # callers of the wider class still see it
    assert not caught.value.retryable
    assert len(rec.api_requests()) == 1  # the zone is not asked again, nothing is repeated
    assert len(rec.requests) == 2 and sleeps == []


def test_error_keeps_decoded_errors_and_error_id() -> None:
    body = {
        "errors": ["An unexpected error has occurred. Error ID: 54634.", "second"],
        "errorId": 54634,
    }
    error = error_from_response(answer(500, body), method="POST", path="/p")
    assert error.errors == body["errors"]
    assert error.error_id == 54634
    assert error.body == body
    assert not error.retryable


def test_validation_is_not_retryable_but_server_errors_are() -> None:
    assert not error_from_response(
        answer(500, {"errors": [DUPLICATE]}), method="POST", path="/"
    ).retryable
    assert error_from_response(answer(503), method="GET", path="/").retryable
    limited = error_from_response(answer(429, None, {"Retry-After": "7"}), method="GET", path="/")
    assert isinstance(limited, RateLimitError)
    assert limited.retryable and limited.retry_after == 7.0


def test_message_names_method_and_path_but_no_query_string() -> None:
    error = error_from_response(
        answer(500, {"errors": [OUTSIDE]}),
        method="POST",
        path="/V1.0/Contracts/1/ServiceAdjustments",
    )
    assert str(error) == f"HTTP 500: {OUTSIDE} (POST /V1.0/Contracts/1/ServiceAdjustments)"


def test_credentials_never_reach_exception_text(make_client, creds) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed talking with headers {dict(request.headers)}")

    client, _ = make_client(refuse)
    with pytest.raises(AutotaskError) as caught:
        client.services.create({"name": "x"})
    text = str(caught.value) + repr(caught.value) + repr(caught.value.args)
    for secret in (creds.secret, creds.integration_code):
        assert secret not in text
