from __future__ import annotations

import httpx
import pytest

from autotask_client import (
    AuthenticationError,
    AutotaskClient,
    Credentials,
    ZoneCache,
    ZoneNotFoundError,
)
from autotask_client.zone import api_base, rest_root

BASE = "https://webservices14.autotask.net/ATServicesRest/V1.0/"

pytestmark = pytest.mark.unit


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "externalRequestThreshold": 10000,
            "requestThresholdTimeframe": 60,
            "currentTimeframeRequestCount": 3,
        },
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://webservices14.autotask.net/ATServicesRest/",
        "https://webservices14.autotask.net/ATServicesRest",
        "https://webservices14.autotask.net//ATServicesRest/",
    ],
)
def test_zone_url_with_or_without_trailing_slash_gives_one_base(url: str) -> None:
    assert api_base(url) == BASE
    assert rest_root(url) == "https://webservices14.autotask.net/ATServicesRest/"


def test_zone_is_discovered_without_credentials_and_cached(make_client) -> None:
    client, rec = make_client(ok)
    client.threshold_information()
    client.threshold_information()
    zone_calls = [r for r in rec.requests if r.url.path.endswith("ZoneInformation")]
    assert len(zone_calls) == 1
    zone_call = zone_calls[0]
    assert zone_call.url.host == "webservices2.autotask.net"
    assert zone_call.url.params["user"] == "api-user@example.test"
    for header in ("Secret", "UserName", "ApiIntegrationCode"):
        assert header not in zone_call.headers
    assert str(rec.api_requests()[0].url) == BASE + "ThresholdInformation"


def test_every_api_call_carries_the_documented_headers(make_client, creds: Credentials) -> None:
    client, rec = make_client(ok)
    client.threshold_information()
    sent = rec.api_requests()[0].headers
    assert sent["ApiIntegrationCode"] == creds.integration_code
    assert sent["UserName"] == creds.username
    assert sent["Secret"] == creds.secret
    assert "ImpersonationResourceId" not in sent


def test_impersonation_header_only_on_writes(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"itemId": 5})
        return httpx.Response(200, json={"item": {"id": 5, "name": "x"}})

    recorder_client, rec = make_client(handler)
    client = AutotaskClient(
        Credentials("u@x", "s", "c", impersonation_resource_id=29682885),
        http=recorder_client._http,
    )
    client.services.get(5)
    client.services.create({"name": "x"})
    get, post = rec.api_requests()
    assert "ImpersonationResourceId" not in get.headers
    assert post.headers["ImpersonationResourceId"] == "29682885"


def test_a_401_rediscovers_the_zone_once_then_succeeds(make_client) -> None:
    answers = iter([httpx.Response(401), None])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        return answer if answer is not None else ok(request)

    client, rec = make_client(handler)
    assert client.threshold_information().current_timeframe_request_count == 3
    zone_calls = [r for r in rec.requests if r.url.path.endswith("ZoneInformation")]
    assert len(zone_calls) == 2


def test_a_second_401_is_an_authentication_error(make_client, sleeps: list[float]) -> None:
    client, rec = make_client(lambda r: httpx.Response(401))
    with pytest.raises(AuthenticationError) as caught:
        client.threshold_information()
    assert caught.value.status == 401
    assert len(rec.api_requests()) == 2
    assert sleeps == []


def test_unknown_user_is_zone_not_found(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no API call without a zone")

    client, rec = make_client(handler)
    rec_handler = rec.__call__

    def zone_fails(request: httpx.Request) -> httpx.Response:
        if "zoneinformation" in request.url.path.lower():
            return httpx.Response(
                500, json={"errors": ["Zone information could not be determined"]}
            )
        return rec_handler(request)

    client._http = httpx.Client(transport=httpx.MockTransport(zone_fails))
    with pytest.raises(ZoneNotFoundError) as caught:
        client.threshold_information()
    assert caught.value.errors == ["Zone information could not be determined"]


def test_fixed_base_url_skips_discovery(creds: Credentials) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok(request)

    client = AutotaskClient(
        creds,
        base_url="http://127.0.0.1:9/ATServicesRest/",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    client.threshold_information()
    assert seen == ["http://127.0.0.1:9/ATServicesRest/V1.0/ThresholdInformation"]


def test_zone_cache_expires() -> None:
    now = [0.0]
    cache = ZoneCache(ttl=10, clock=lambda: now[0])
    from autotask_client import ZoneInfo

    cache.put("A@x", ZoneInfo(url="https://a/ATServicesRest/"))
    assert cache.get("a@X") is not None
    now[0] = 11
    assert cache.get("a@x") is None


def test_credentials_never_appear_in_repr(creds: Credentials, make_client) -> None:
    client, _ = make_client(ok)
    assert creds.secret not in repr(creds)
    assert creds.integration_code not in repr(creds)
    assert creds.secret not in repr(client)


def test_version_information_needs_no_credentials(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "Secret" not in request.headers
        assert request.url.path == "/ATServicesRest/VersionInformation"
        return httpx.Response(200, json={"apiVersions": ["1.0"]})

    client, _ = make_client(handler)
    assert client.version_information() == ["1.0"]
