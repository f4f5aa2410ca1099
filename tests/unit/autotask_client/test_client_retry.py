from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotask_client import (
    Idempotency,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    Service,
    ValidationError,
)
from prism_http.retry import MAX_BACKOFF_SECONDS

pytestmark = pytest.mark.unit

SERVICE = {"item": {"id": 9, "name": "PC_sku", "unitPrice": 10.5}}


def sequence(*answers: httpx.Response | Exception) -> Iterator[httpx.Response | Exception]:
    return iter(answers)


def scripted(answers: Iterator[httpx.Response | Exception]):
    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def test_reads_are_retried_on_5xx_and_timeouts(make_client, sleeps: list[float]) -> None:
    client, rec = make_client(
        scripted(
            sequence(
                httpx.Response(503), httpx.ReadTimeout("slow"), httpx.Response(200, json=SERVICE)
            )
        )
    )
    service = client.services.get(9)
    assert service is not None and service.name == "PC_sku"
    assert len(rec.api_requests()) == 3
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0] * 1.1  # backoff grows


def test_retry_after_is_honoured(make_client, sleeps: list[float]) -> None:
    client, _ = make_client(
        scripted(
            sequence(
                httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json=SERVICE)
            )
        )
    )
    client.services.get(9)
    assert sleeps == [2.0]


def test_retry_after_beyond_the_cap_is_raised_not_waited(make_client, sleeps: list[float]) -> None:
    client, _ = make_client(
        scripted(sequence(httpx.Response(429, headers={"Retry-After": "3600"})))
    )
    with pytest.raises(RateLimitError) as caught:
        client.services.get(9)
    assert caught.value.retry_after == 3600.0
    assert sleeps == []


def test_retries_stop_after_the_limit(make_client, sleeps: list[float]) -> None:
    client, rec = make_client(lambda r: httpx.Response(502))
    with pytest.raises(ServerError):
        client.services.get(9)
    assert len(rec.api_requests()) == 1 + RetryPolicy().max_retries


@pytest.mark.parametrize(
    "failure", [httpx.Response(503), httpx.ReadTimeout("lost"), httpx.Response(429)]
)
def test_creates_are_never_retried(make_client, sleeps: list[float], failure) -> None:
    client, rec = make_client(scripted(sequence(failure, httpx.Response(200, json={"itemId": 1}))))
    with pytest.raises((ServerError, RequestTimeoutError, RateLimitError)):
        client.services.create(Service(name="PC_x", unit_price=1))
    assert len(rec.api_requests()) == 1
    assert sleeps == []


def test_adjustment_creates_are_never_retried(make_client, sleeps: list[float]) -> None:
    from autotask_client import ContractServiceAdjustment

    client, rec = make_client(scripted(sequence(httpx.ReadTimeout("lost"))))
    with pytest.raises(RequestTimeoutError):
        client.contract_service_adjustments.create(
            ContractServiceAdjustment(contract_id=1, service_id=2, unit_change=3)
        )
    assert len(rec.api_requests()) == 1


def test_absolute_updates_by_id_are_retried(make_client, sleeps: list[float]) -> None:
    client, rec = make_client(
        scripted(sequence(httpx.ReadTimeout("lost"), httpx.Response(200, json={"itemId": 9})))
    )
    assert client.services.update(9, {"unitPrice": 12}) == 9
    bodies = [r.content for r in rec.api_requests()]
    assert len(bodies) == 2 and bodies[0] == bodies[1]


def test_validation_answers_are_not_retried(make_client, sleeps: list[float]) -> None:
    client, rec = make_client(
        lambda r: httpx.Response(500, json={"errors": ["Field 'name' is required."]})
    )
    with pytest.raises(ValidationError):
        client.services.update(9, {"name": ""})
    assert len(rec.api_requests()) == 1


def test_explicit_create_idempotency_on_raw_requests(make_client) -> None:
    client, rec = make_client(lambda r: httpx.Response(503))
    with pytest.raises(ServerError):
        client.request("POST", "Companies", json={}, idempotency=Idempotency.CREATE)
    assert len(rec.api_requests()) == 1


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_within_jitter_bounds(attempt: int, seed: int) -> None:
    import random

    policy = RetryPolicy(rng=random.Random(seed))
    base = min(MAX_BACKOFF_SECONDS, policy.initial_backoff * 2 ** (attempt - 1))
    delay = policy.backoff(attempt)
    assert base * (1 - policy.jitter) <= delay <= base * (1 + policy.jitter)
