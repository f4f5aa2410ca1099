"""The client's `observe` hook hears of every HTTP request: its endpoint and its outcome,
never its URL or credentials (what Prism's Autotask request metrics count)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from autotask_client import AutotaskClient, RequestTimeoutError, RetryPolicy
from autotask_client.query import Query
from tests.unit.autotask_client.conftest import Handler, Recorder

pytestmark = pytest.mark.unit

MakeClient = Callable[..., tuple[AutotaskClient, Recorder]]


def test_each_request_is_observed_with_its_endpoint_status_and_time(
    make_client: MakeClient,
) -> None:
    heard: list[tuple[str, str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": 1}], "pageDetails": {"count": 1}})

    client, _ = make_client(handler, observe=lambda *args: heard.append(args))
    list(client.query("Companies", Query()))

    assert [(endpoint, status) for endpoint, status, _ in heard] == [
        ("ZoneInformation", "200"),
        ("Companies", "200"),
    ]
    assert all(seconds >= 0 for _, _, seconds in heard)


def test_a_refused_and_a_retried_request_are_each_observed(make_client: MakeClient) -> None:
    heard: list[tuple[str, str]] = []
    answers = iter([httpx.Response(429, json={"errors": ["slow down"]}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        return answer or httpx.Response(200, json={"items": [], "pageDetails": {"count": 0}})

    client, _ = make_client(handler, observe=lambda e, s, _: heard.append((e, s)))
    list(client.query("Contracts", Query()))

    assert heard[1:] == [("Contracts", "429"), ("Contracts", "200")]


def test_a_timeout_is_observed_as_such(make_client: MakeClient) -> None:
    heard: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> Any:
        raise httpx.ReadTimeout("no answer", request=request)

    client, _ = make_client(
        handler,
        observe=lambda e, s, _: heard.append((e, s)),
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(RequestTimeoutError):
        client.version()

    assert heard[-1] == ("Version", "timeout")


def test_without_an_observer_nothing_is_needed(make_client: MakeClient) -> None:
    handler: Handler = lambda request: httpx.Response(200, json={"version": "1.0"})  # noqa: E731
    client, _ = make_client(handler)

    assert client.observe is None
    client.version()
