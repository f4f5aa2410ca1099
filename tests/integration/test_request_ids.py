"""Every HTTP request has an id (N4): a sane `X-Request-ID` is kept, anything else replaced;
the response echoes it and the records logged while handling the request carry it."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.logs import captured_logs

pytestmark = pytest.mark.integration

HEX_ID = re.compile(r"[0-9a-f]{32}")


async def test_a_request_without_an_id_gets_a_new_one(anonymous: GraphQLClient) -> None:
    first = await anonymous.raw("{ __typename }")
    second = await anonymous.raw("{ __typename }")

    assert HEX_ID.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_incoming_id_is_kept(anonymous: GraphQLClient) -> None:
    given = f"lb-{uuid.uuid4()}"
    response = await anonymous.as_(None, x_request_id=given).raw("{ __typename }")
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize(
    "given", ["x" * 65, "short", "has spaces in it", "new\\nline-injected", 'quote"d-12345']
)
async def test_an_unreasonable_incoming_id_is_replaced(
    anonymous: GraphQLClient, given: str
) -> None:
    response = await anonymous.as_(None, x_request_id=given).raw("{ __typename }")
    assert HEX_ID.fullmatch(response.headers["x-request-id"])


async def test_other_routes_have_one_too(anonymous: GraphQLClient) -> None:
    response = await anonymous.http.get("/healthz")
    assert HEX_ID.fullmatch(response.headers["x-request-id"])


async def test_records_logged_while_handling_a_request_carry_its_id(
    anonymous: GraphQLClient,
) -> None:
    given = f"req-{uuid.uuid4().hex}"
    with captured_logs() as logs:
        # strawberry logs the errors of an operation it refuses, while handling the request
        body = await anonymous.as_(None, x_request_id=given).post("{ noSuchField }")
    assert body["errors"]

    logged = [line for line in logs.lines() if line["logger"].startswith("strawberry")]
    assert logged, logs.text
    assert {line.get("request_id") for line in logged} == {given}
