"""The one request/attempt loop both PSA clients send through (prism_http.attempts): what it
repeats, how long it waits, what it tells the observer and what it raises, for any vendor."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from prism_http.attempts import Outgoing, Vendor, send_with_retries
from prism_http.client import ApiClient
from prism_http.errors import ApiError, error_body, parse_retry_after
from prism_http.retry import Idempotency, RetryPolicy

pytestmark = pytest.mark.unit


class ToyError(ApiError):
    pass


class ToyTimeout(ToyError):
    retryable = True


class ToyUnanswered(ToyError):
    retryable = True


class ToyInvalid(ToyError):
    pass


class ToyRefused(ToyError):
    pass


class ToyBusy(ToyError):
    retryable = True


def classify(response: httpx.Response, *, method: str, path: str) -> ApiError:
    kind = ToyBusy if response.status_code in (429, 503) else ToyRefused
    error = kind(
        f"refused {response.status_code}", status=response.status_code, method=method, path=path
    )
    error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return error


VENDOR = Vendor(
    "toy",
    logging.getLogger("toy_client"),
    classify=classify,
    timed_out=ToyTimeout,
    unanswered=ToyUnanswered,
    invalid=ToyInvalid,
)


def scripted(*answers: httpx.Response | Exception) -> tuple[httpx.Client, list[httpx.Request]]:
    sent: list[httpx.Request] = []
    queue = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = next(queue)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler)), sent


def send(
    http: httpx.Client,
    *,
    idempotency: Idempotency = Idempotency.READ,
    retry: RetryPolicy,
    heard: list[tuple[str, str]] | None = None,
    url: str = "https://psa.example.test/api/items/7?secret=no",
    **kw: object,
) -> httpx.Response:
    def prepare() -> Outgoing:
        return Outgoing("GET", url, {"Accept": "application/json"})

    return send_with_retries(
        VENDOR,
        http,
        prepare,
        endpoint="items",
        idempotency=idempotency,
        retry=retry,
        observe=None if heard is None else lambda e, o, _: heard.append((e, o)),
        scrub=lambda text: text.replace("s3cret", "***"),
        **kw,  # type: ignore[arg-type]
    ).response


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retry(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(max_retries=2, sleep=sleeps.append)


def test_a_read_is_repeated_after_a_transient_error_and_each_attempt_is_observed(
    retry: RetryPolicy, sleeps: list[float]
) -> None:
    name = uuid.uuid4().hex
    http, sent = scripted(httpx.Response(503), httpx.Response(200, json={"name": name}))
    heard: list[tuple[str, str]] = []

    response = send(http, retry=retry, heard=heard)

    assert response.json() == {"name": name}
    assert len(sent) == 2 and len(sleeps) == 1
    assert heard == [("items", "503"), ("items", "200")]


def test_a_create_is_never_repeated(retry: RetryPolicy, sleeps: list[float]) -> None:
    http, sent = scripted(httpx.Response(503))

    with pytest.raises(ToyBusy) as raised:
        send(http, idempotency=Idempotency.CREATE, retry=retry)

    assert len(sent) == 1 and sleeps == []
    assert str(raised.value) == "HTTP 503: refused 503 (GET /api/items/7)"


def test_a_refusal_that_cannot_change_is_raised_at_once(
    retry: RetryPolicy, sleeps: list[float]
) -> None:
    http, sent = scripted(httpx.Response(400))

    with pytest.raises(ToyRefused):
        send(http, retry=retry)

    assert len(sent) == 1 and sleeps == []


def test_retry_after_is_waited_exactly_and_a_longer_one_is_raised_for_a_worker(
    retry: RetryPolicy, sleeps: list[float]
) -> None:
    http, _ = scripted(httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(204))
    assert send(http, retry=retry).status_code == 204
    assert sleeps == [2.0]

    http, sent = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(ToyBusy) as raised:
        send(http, retry=retry)
    assert raised.value.retry_after == 3600.0 and len(sent) == 1 and sleeps == [2.0]


def test_the_retries_run_out(retry: RetryPolicy, sleeps: list[float]) -> None:
    http, sent = scripted(*[httpx.Response(503)] * 3)

    with pytest.raises(ToyBusy):
        send(http, retry=retry)

    assert len(sent) == 3 and len(sleeps) == 2


def test_a_curable_refusal_is_repeated_at_once_with_a_fresh_request(sleeps: list[float]) -> None:
    http, sent = scripted(httpx.Response(401), httpx.Response(200, json=[]))
    hosts = iter(["old.example.test", "new.example.test"])
    cured: list[ApiError] = []

    def prepare() -> Outgoing:
        return Outgoing("POST", f"https://{next(hosts)}/api/items", {})

    def repeat_at_once(error: ApiError) -> bool:
        cured.append(error)
        return len(cured) == 1

    send_with_retries(
        VENDOR,
        http,
        prepare,
        endpoint="items",
        idempotency=Idempotency.CREATE,
        retry=RetryPolicy(max_retries=0, sleep=sleeps.append),
        observe=None,
        scrub=str,
        repeat_at_once=repeat_at_once,
    )

    assert [r.url.host for r in sent] == ["old.example.test", "new.example.test"]
    assert sleeps == [] and isinstance(cured[0], ToyRefused)


def test_no_answer_is_the_vendors_error_without_credentials_or_the_httpx_cause(
    retry: RetryPolicy,
) -> None:
    http, _ = scripted(*[httpx.ConnectError("refused for user s3cret")] * 3)
    heard: list[tuple[str, str]] = []

    with pytest.raises(ToyUnanswered) as raised:
        send(http, retry=retry, heard=heard)

    assert "s3cret" not in str(raised.value) and "***" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert raised.value.path == "/api/items/7"
    assert heard == [("items", "error")] * 3


def test_a_timeout_is_the_vendors_timeout(retry: RetryPolicy) -> None:
    http, _ = scripted(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), httpx.ReadTimeout("x"))
    heard: list[tuple[str, str]] = []

    with pytest.raises(ToyTimeout, match="no answer in time"):
        send(http, retry=retry, heard=heard)

    assert heard == [("items", "timeout")] * 3


def test_each_attempt_holds_the_slot(retry: RetryPolicy) -> None:
    http, _ = scripted(httpx.Response(503), httpx.Response(200))
    held: list[str] = []

    @contextmanager
    def slot() -> Iterator[None]:
        held.append("in")
        yield
        held.append("out")

    send(http, retry=retry, slot=slot)

    assert held == ["in", "out", "in", "out"]


def test_a_success_answer_that_is_not_json_is_the_vendors_invalid_answer(
    retry: RetryPolicy,
) -> None:
    http, _ = scripted(httpx.Response(200, text="<html>"))
    answered = send_with_retries(
        VENDOR,
        http,
        lambda: Outgoing("GET", "https://psa.example.test/api/items?q=1", {}),
        endpoint="items",
        idempotency=Idempotency.READ,
        retry=retry,
        observe=None,
        scrub=str,
    )

    with pytest.raises(ToyInvalid) as raised:
        answered.json(VENDOR)
    assert str(raised.value) == "HTTP 200: success answer is not JSON (GET /api/items)"


def test_retry_after_reads_seconds_and_dates_and_a_body_falls_back_to_text() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)

    assert parse_retry_after("5") == 5.0
    assert 25.0 < (parse_retry_after(format_datetime(later, usegmt=True)) or 0) <= 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert error_body(httpx.Response(500, text="oops")) == "oops"
    assert error_body(httpx.Response(500)) is None


class ToyClient(ApiClient):
    _vendor = VENDOR

    def base_url(self) -> str:
        return "https://psa.example.test/api/"


def test_a_client_closes_only_the_pool_it_made() -> None:
    given = httpx.Client()
    with ToyClient(http=given, timeout=1.0, retry=None, observe=None, scrub=str) as client:
        assert client._url("items/1") == "https://psa.example.test/api/items/1"
    assert not given.is_closed

    own = ToyClient(http=None, timeout=1.0, retry=None, observe=None, scrub=str)
    own.close()
    assert own._http.is_closed
    given.close()
