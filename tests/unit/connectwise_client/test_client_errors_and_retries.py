"""Refusals become typed errors keeping what ConnectWise said; only safe requests repeat,
429s wait the Retry-After seconds, and credentials never reach a message."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectwise_client import (
    AuthenticationError,
    CatalogItem,
    ConflictError,
    DuplicateError,
    ErrorDetail,
    MethodNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)

pytestmark = pytest.mark.unit

INVALID = {
    "code": "InvalidObject",
    "message": "catalogItem object is invalid",
    "errors": [
        {
            "code": "MaxLengthField",
            "message": "The field description must be a string with a maximum length of 60.",
            "resource": "catalogItem",
            "field": "description",
        },
        {
            "code": "NotFound",
            "message": "Product Type 9 not found.",
            "resource": "catalogItem",
            "field": "type/id",
        },
    ],
}


def scripted(answers: Iterator[httpx.Response | Exception]):
    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, INVALID, ValidationError),
        (401, {"code": "Unauthorized", "message": "nope"}, AuthenticationError),
        (
            403,
            {"code": "Security", "message": "You do not have security permission"},
            PermissionDeniedError,
        ),
        (404, {"code": "NotFound", "message": "Catalog item 9 not found"}, NotFoundError),
        (405, None, MethodNotAllowedError),
        (409, {"code": "Conflict", "message": "in use"}, ConflictError),
        (429, {"error": "ConnectWiseAPI", "message": "Too many requests."}, RateLimitError),
        (500, {"code": "UnexpectedError", "message": "boom"}, ServerError),
    ],
)
def test_each_status_has_its_kind(make_client, status, body, kind) -> None:
    answer = httpx.Response(status, json=body) if body is not None else httpx.Response(status)
    client, _ = make_client(lambda r: answer, retry=RetryPolicy(max_retries=0))
    with pytest.raises(kind) as caught:
        client.request("GET", "procurement/catalog/9")
    error = caught.value
    assert type(error) is kind and error.status == status
    assert error.path == "/v2025_1/apis/3.0/procurement/catalog/9" and error.method == "GET"


def test_a_refusal_keeps_its_code_and_every_detail(make_client) -> None:
    client, _ = make_client(lambda r: httpx.Response(400, json=INVALID))
    with pytest.raises(ValidationError) as caught:
        client.catalog.create(CatalogItem(identifier="X", description="Y" * 61))
    error = caught.value
    assert error.code == "InvalidObject"
    assert error.fields() == {"description", "type/id"}
    assert error.details[0] == ErrorDetail(
        code="MaxLengthField",
        message="The field description must be a string with a maximum length of 60.",
        resource="catalogItem",
        field="description",
    )
    assert "catalogItem object is invalid: The field description" in str(error)


def test_a_taken_identifier_is_a_duplicate(make_client) -> None:
    body = {
        "code": "InvalidObject",
        "message": "catalogItem object is invalid",
        "errors": [
            {
                "code": "UniqueIdentifier",
                "message": "The identifier X is already in use.",
                "resource": "catalogItem",
                "field": "identifier",
            }
        ],
    }
    client, _ = make_client(lambda r: httpx.Response(400, json=body))
    with pytest.raises(DuplicateError):
        client.catalog.create(CatalogItem(identifier="X", description="Y"))


def test_a_429_waits_the_retry_after_seconds_then_repeats(make_client, sleeps) -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "Too many"}),
            httpx.Response(200, json={"id": 9}),
        ]
    )
    client, rec = make_client(scripted(answers))
    assert client.catalog.get(9).id == 9
    assert sleeps == [7.0] and len(rec.api_requests()) == 2


def test_a_long_retry_after_is_not_waited_out_in_process(make_client, sleeps) -> None:
    client, _ = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as caught:
        client.catalog.get(9)
    assert caught.value.retry_after == 3600.0 and sleeps == []


def test_server_errors_and_lost_connections_repeat_reads_with_backoff(make_client, sleeps) -> None:
    answers = iter(
        [
            httpx.Response(503),
            httpx.ConnectError("reset"),
            httpx.Response(502),
            httpx.Response(200, json={"id": 9}),
        ]
    )
    client, rec = make_client(scripted(answers))
    assert client.catalog.get(9).id == 9
    assert sleeps == [0.5, 1.0, 2.0] and len(rec.api_requests()) == 4


def test_retries_stop_at_the_policy_limit(make_client, sleeps) -> None:
    client, rec = make_client(lambda r: httpx.Response(500, json={"message": "down"}))
    with pytest.raises(ServerError):
        client.catalog.get(9)
    assert len(rec.api_requests()) == 4 and len(sleeps) == 3


def test_a_create_is_never_repeated(make_client, sleeps) -> None:
    client, rec = make_client(lambda r: httpx.Response(503))
    with pytest.raises(ServerError):
        client.catalog.create(CatalogItem(identifier="X", description="Y"))
    with pytest.raises(RateLimitError):
        make_client(lambda r: httpx.Response(429, headers={"Retry-After": "1"}))[0].catalog.create(
            CatalogItem(identifier="X", description="Y")
        )
    assert len(rec.api_requests()) == 1 and sleeps == []


def test_a_patch_by_id_is_repeated(make_client, sleeps) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"id": 9})])
    client, rec = make_client(scripted(answers))
    client.catalog.patch(9, CatalogItem(price=1))
    assert len(rec.api_requests()) == 2


def test_client_errors_are_not_repeated(make_client, sleeps) -> None:
    client, rec = make_client(lambda r: httpx.Response(400, json=INVALID))
    with pytest.raises(ValidationError):
        client.catalog.get(9)
    assert len(rec.api_requests()) == 1 and sleeps == []


def test_a_timeout_is_its_own_kind(make_client) -> None:
    client, _ = make_client(
        scripted(iter([httpx.ReadTimeout("slow")])), retry=RetryPolicy(max_retries=0)
    )
    with pytest.raises(RequestTimeoutError):
        client.catalog.get(9)


def test_no_credential_reaches_an_error_or_a_repr(make_client, creds) -> None:
    leak = f"connect failed for {creds.authorization()} {creds.private_key} {creds.client_id}"
    client, _ = make_client(
        scripted(iter([httpx.ConnectError(leak)])), retry=RetryPolicy(max_retries=0)
    )
    with pytest.raises(TransportError) as caught:
        client.catalog.get(9)
    text = str(caught.value) + repr(client) + repr(creds)
    for secret in (creds.private_key, creds.public_key, creds.client_id, creds.authorization()[6:]):
        assert secret not in text


def test_the_observer_hears_each_attempt(make_client) -> None:
    heard: list[tuple[str, str]] = []
    answers = iter([httpx.Response(503), httpx.Response(200, json={"id": 1})])
    client, _ = make_client(scripted(answers), observe=lambda e, o, s: heard.append((e, o)))
    client.agreements.additions(301).get(1)
    assert heard[-2:] == [
        ("finance/agreements/additions", "503"),
        ("finance/agreements/additions", "200"),
    ]
