"""Auth headers, codebase discovery, paging and JSON-patch bodies, against a mock transport."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import httpx
import pytest

from connectwise_client import (
    Addition,
    CatalogItem,
    CompanyNotFoundError,
    ConnectWiseClient,
    Credentials,
    Reference,
    patch,
)
from connectwise_client.conditions import eq

from .conftest import BASE, SITE, body_of

pytestmark = pytest.mark.unit


def test_every_call_carries_basic_auth_of_company_plus_keys_and_the_client_id(
    make_client, creds: Credentials
) -> None:
    client, rec = make_client(lambda r: httpx.Response(200, json={"version": "v2025.1"}))
    client.test_connection()
    (call,) = rec.api_requests()
    token = call.headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(token).decode() == "acmemsp+PUBkey123:PRIVATE-secret-987"
    assert call.headers["clientId"] == creds.client_id
    assert str(call.url) == BASE + "system/info"
    # companyinfo is asked without credentials.
    info = rec.requests[0]
    assert info.url.path == "/login/companyinfo/acmemsp" and "Authorization" not in info.headers


def test_the_codebase_is_discovered_once_or_taken_as_given(make_client) -> None:
    client, rec = make_client(lambda r: httpx.Response(200, json={}))
    client.request("GET", "system/info")
    client.request("GET", "system/info")
    assert sum("/login/" in r.url.path for r in rec.requests) == 1
    fixed, rec2 = make_client(lambda r: httpx.Response(200, json={}), codebase="v4_6_release")
    fixed.request("GET", "system/info")
    assert [r.url.path for r in rec2.requests] == ["/v4_6_release/apis/3.0/system/info"]


def test_an_unknown_company_id_is_named(creds: Credentials) -> None:
    for answer in (httpx.Response(200, json=None), httpx.Response(404)):
        http = httpx.Client(transport=httpx.MockTransport(lambda r, a=answer: a))
        with pytest.raises(CompanyNotFoundError, match="acmemsp"):
            ConnectWiseClient(creds, site=SITE, http=http).base_url()


def test_the_accept_header_pins_a_version_when_asked(make_client) -> None:
    client, rec = make_client(lambda r: httpx.Response(200, json={}), api_version="2025.1")
    client.request("GET", "system/info")
    assert rec.api_requests()[0].headers["Accept"] == (
        "application/vnd.connectwise.com+json; version=2025.1"
    )


def test_iterate_pages_forward_only_following_the_next_page_id(make_client) -> None:
    ids = list(range(1, 8))

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["pagination-type"] == "forward-only"
        after = int(request.url.params.get("pageId", 0))
        size = int(request.url.params["pageSize"])
        served = [{"id": i} for i in ids if i > after][:size]
        last = served[-1]["id"] if served else after
        nxt = request.url.copy_set_param("pageId", last)
        return httpx.Response(200, json=served, headers={"Link": f'<{nxt}>; rel="next"'})

    client, rec = make_client(handler)
    got = list(
        client.iterate("procurement/catalog", conditions=eq("inactiveFlag", False), page_size=3)
    )
    assert [g["id"] for g in got] == ids
    calls = rec.api_requests()
    assert [c.url.params.get("pageId") for c in calls] == [None, "3", "6"]
    assert all(c.url.params["conditions"] == "inactiveFlag = false" for c in calls)


def test_a_full_last_page_ends_on_the_empty_one_after_it(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("pageId", 0))
        served = [{"id": i} for i in (1, 2) if i > after]
        nxt = request.url.copy_set_param("pageId", served[-1]["id"] if served else after)
        return httpx.Response(200, json=served, headers={"Link": f'<{nxt}>; rel="next"'})

    client, rec = make_client(handler)
    assert len(list(client.iterate("company/companies", page_size=2))) == 2
    assert len(rec.api_requests()) == 2


def test_a_navigable_page_names_its_next_link(make_client) -> None:
    nxt = BASE + "company/companies?pageSize=2&page=2"
    client, rec = make_client(
        lambda r: httpx.Response(
            200, json=[{"id": 1}, {"id": 2}], headers={"Link": f'<{nxt}>; rel="next"'}
        )
    )
    page = client.list_page(
        "company/companies", page_size=2, order_by="name asc", fields=["id", "name"]
    )
    assert page.next_url == nxt and len(page.items) == 2
    params = rec.api_requests()[0].url.params
    assert (
        params["orderBy"] == "name asc" and params["fields"] == "id,name" and params["page"] == "1"
    )


def test_page_size_is_held_to_the_documented_range(make_client) -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json=[]))
    for size in (0, 1001):
        with pytest.raises(ValueError, match="1000"):
            client.list_page("company/companies", page_size=size)


def test_create_sends_only_set_fields_in_wire_names(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=body_of(request) | {"id": 77})

    client, rec = make_client(handler)
    made = client.agreements.additions(301).create(
        Addition(
            product=Reference.to(5),
            quantity=Decimal("3"),
            bill_customer="Billable",
            effective_date=date(2026, 1, 10),
        )
    )
    assert made.id == 77 and made.effective_date == date(2026, 1, 10)
    call = rec.api_requests()[0]
    assert call.url.path.endswith("/finance/agreements/301/additions")
    assert body_of(call) == {
        "product": {"id": 5},
        "quantity": 3.0,
        "billCustomer": "Billable",
        "effectiveDate": "2026-01-10T00:00:00Z",
    }


def test_patch_sends_a_json_patch_array(make_client) -> None:
    client, rec = make_client(lambda r: httpx.Response(200, json={"id": 9, "price": 12.5}))
    client.catalog.patch(9, CatalogItem(price=Decimal("12.5"), inactive_flag=True))
    client.catalog.patch(9, [patch.replace("type", {"id": 31}), patch.remove("integrationXRef")])
    first, second = rec.api_requests()
    assert first.method == "PATCH" and first.url.path.endswith("/procurement/catalog/9")
    # One replace per field set, in the model's field order.
    assert body_of(first) == [
        {"op": "replace", "path": "inactiveFlag", "value": True},
        {"op": "replace", "path": "price", "value": 12.5},
    ]
    assert body_of(second) == [
        {"op": "replace", "path": "type", "value": {"id": 31}},
        {"op": "remove", "path": "integrationXRef"},
    ]
    with pytest.raises(ValueError, match="whole field"):
        patch.replace("type/id", 31)


def test_count_reads_the_count(make_client) -> None:
    client, rec = make_client(lambda r: httpx.Response(200, json={"count": 42}))
    assert client.catalog.count(eq("identifier", "A")) == 42
    assert rec.api_requests()[0].url.path.endswith("/procurement/catalog/count")
