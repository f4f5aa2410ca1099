from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from autotask_client import Query
from autotask_client import query as q
from autotask_client.query import split_in_lists

pytestmark = pytest.mark.unit


def test_every_operator_has_its_wire_spelling() -> None:
    filters = [
        q.eq("name", "a"),
        q.noteq("name", "b"),
        q.gt("id", 1),
        q.gte("id", 2),
        q.lt("id", 3),
        q.lte("id", 4),
        q.begins_with("name", "PC_"),
        q.ends_with("name", "x"),
        q.contains("name", "sku"),
        q.exist("sku"),
        q.not_exist("sku"),
        q.in_("id", [1, 2]),
        q.not_in("id", [3]),
    ]
    assert [f.to_wire()["op"] for f in filters] == [
        "eq",
        "noteq",
        "gt",
        "gte",
        "lt",
        "lte",
        "beginsWith",
        "endsWith",
        "contains",
        "exist",
        "notExist",
        "in",
        "notIn",
    ]
    assert "value" not in q.exist("sku").to_wire()
    assert q.in_("id", [1, 2]).to_wire()["value"] == [1, 2]


def test_groups_udfs_and_values() -> None:
    body = Query(
        filters=(
            q.or_(
                q.eq("isActive", True),
                q.and_(q.gt("id", 0), q.eq("Number of Employees", 3, udf=True)),
            ),
            q.gte(
                "lastModifiedDate",
                datetime(2024, 1, 31, 15, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            ),
            q.eq("startDate", date(2024, 2, 1)),
            q.eq("unitPrice", Decimal("12.50")),
        ),
        max_records=50,
        include_fields=("name",),
    ).to_body()
    assert body == {
        "MaxRecords": 50,
        "IncludeFields": ["id", "name"],
        "Filter": [
            {
                "op": "or",
                "items": [
                    {"op": "eq", "field": "isActive", "value": True},
                    {
                        "op": "and",
                        "items": [
                            {"op": "gt", "field": "id", "value": 0},
                            {"op": "eq", "field": "Number of Employees", "value": 3, "udf": True},
                        ],
                    },
                ],
            },
            {"op": "gte", "field": "lastModifiedDate", "value": "2024-01-31T13:04:05Z"},
            {  # a calendar day: between two middays UTC (test_client_day_fields)
                "op": "and",
                "items": [
                    {"op": "gt", "field": "startDate", "value": "2024-01-31T12:00:00Z"},
                    {"op": "lte", "field": "startDate", "value": "2024-02-01T12:00:00Z"},
                ],
            },
            {"op": "eq", "field": "unitPrice", "value": 12.5},
        ],
    }


def test_no_filter_means_everything_and_max_records_is_bounded() -> None:
    assert q.query().to_body() == {"Filter": [{"op": "gte", "field": "id", "value": 0}]}
    for bad in (0, 501):
        with pytest.raises(ValueError):
            Query(max_records=bad)


def test_naive_datetimes_are_refused_as_ambiguous() -> None:
    with pytest.raises(ValueError):
        q.eq("createDate", datetime(2024, 1, 1)).to_wire()


def test_long_in_lists_are_split_into_disjoint_queries() -> None:
    ids = list(range(1, 1202))
    parts = list(split_in_lists(q.query(q.in_("id", ids), q.eq("isActive", True)), limit=500))
    assert len(parts) == 3
    seen: list[int] = []
    for part in parts:
        (in_filter,) = [f for f in part.filters if getattr(f, "op", "") == "in"]
        assert len(in_filter.value) <= 500
        assert q.eq("isActive", True) in part.filters
        seen.extend(in_filter.value)
    assert seen == ids


def test_long_not_in_lists_stay_in_one_query() -> None:
    parts = list(split_in_lists(q.query(q.not_in("id", range(1000))), limit=500))
    assert len(parts) == 1
    assert [len(f.value) for f in parts[0].filters] == [500, 500]


def page(items, next_url=None):
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": 500,
            "prevPageUrl": None,
            "nextPageUrl": next_url,
        },
    }


NEXT = "https://webservices14.autotask.net/ATServicesRest/V1.0/Services/query/next?paging=abc"


def test_next_page_is_posted_with_the_same_body(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return httpx.Response(
                405, json={"Message": "The requested resource does not support http method 'GET'."}
            )
        if "next" in request.url.path:
            return httpx.Response(200, json=page([{"id": 3, "name": "c"}]))
        return httpx.Response(
            200, json=page([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], NEXT)
        )

    client, rec = make_client(handler)
    names = [s.name for s in client.services.query(q.begins_with("name", "PC_"))]
    assert names == ["a", "b", "c"]
    first, second = rec.api_requests()
    assert str(second.url) == NEXT
    assert second.method == "POST"
    assert json.loads(first.content) == json.loads(second.content)


def test_split_in_queries_are_all_sent(make_client) -> None:
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(200, json=page([{"id": v} for v in body["Filter"][0]["value"][:1]]))

    client, _ = make_client(handler, max_in_values=2)
    ids = [s.id for s in client.services.query(q.in_("id", [1, 2, 3, 4, 5]))]
    assert ids == [1, 3, 5]
    assert [b["Filter"][0]["value"] for b in bodies] == [[1, 2], [3, 4], [5]]


def test_id_cursor_paging_asks_for_ids_above_the_last_seen(make_client) -> None:
    data = [{"id": i} for i in range(1, 8)]

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        floor = max([f["value"] for f in body["Filter"] if f["op"] == "gt"], default=0)
        rows = [r for r in data if r["id"] > floor][: body["MaxRecords"]]
        return httpx.Response(200, json=page(rows))

    client, rec = make_client(handler)
    ids = [c.id for c in client.contracts.query_by_id_cursor(page_size=3)]
    assert ids == list(range(1, 8))
    assert len(rec.api_requests()) == 3


def test_one_page_is_one_request_that_never_follows_next_page_url(make_client) -> None:
    data = [{"id": i, "companyName": f"c{i}"} for i in range(1, 8)]

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        floor = max([f["value"] for f in body["Filter"] if f["op"] == "gt"], default=0)
        matching = [r for r in data if r["id"] > floor]
        size = body["MaxRecords"]
        return httpx.Response(
            200, json=page(matching[:size], NEXT if len(matching) > size else None)
        )

    client, rec = make_client(handler)
    first = client.companies.page(q.eq("isActive", True), size=3)
    second = client.companies.page(q.eq("isActive", True), size=3, after_id=first.last_id)
    last = client.companies.page(q.eq("isActive", True), size=3, after_id=second.last_id)

    assert [[c.id for c in p.items] for p in (first, second, last)] == [[1, 2, 3], [4, 5, 6], [7]]
    assert [p.has_more for p in (first, second, last)] == [True, True, False]
    assert len(rec.api_requests()) == 3  # nextPageUrl said "more", and was not followed
    bodies = [json.loads(r.content) for r in rec.api_requests()]
    assert bodies[1] == {
        "MaxRecords": 3,
        "Filter": [
            {"op": "eq", "field": "isActive", "value": True},
            {"op": "gt", "field": "id", "value": 3},
        ],
    }
    with pytest.raises(ValueError):
        client.companies.page(size=501)
    with pytest.raises(ValueError, match="in-list"):
        client.companies.page(q.in_("id", list(range(600))), size=10)


def test_count_uses_the_count_endpoint(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/Companies/query/count")
        assert "MaxRecords" not in json.loads(request.content)
        return httpx.Response(200, json={"queryCount": 7})

    client, _ = make_client(handler)
    assert client.companies.count(q.eq("isActive", True)) == 7


def test_get_of_a_missing_record_is_none_for_404_and_null_item(make_client) -> None:
    answers = iter([httpx.Response(404), httpx.Response(200, json={"item": None})])
    client, _ = make_client(lambda r: next(answers))
    assert client.services.get(1) is None
    assert client.services.get(2) is None


def test_contract_service_writes_go_through_the_contract(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"itemId": 44})

    client, rec = make_client(handler)
    from autotask_client import ContractService

    assert (
        client.contract_services.create(
            12, ContractService(service_id=3, unit_price=Decimal("9.99"))
        )
        == 44
    )
    client.contract_services.update(12, 44, {"invoiceDescription": "x"})
    create, patch = rec.api_requests()
    assert create.url.path == "/ATServicesRest/V1.0/Contracts/12/Services"
    assert json.loads(create.content) == {"serviceID": 3, "unitPrice": 9.99, "contractID": 12}
    assert patch.method == "PATCH"
    assert json.loads(patch.content) == {"id": 44, "invoiceDescription": "x"}


def test_created_at_naive_strings_are_utc() -> None:
    from autotask_client import Service

    s = Service.model_validate({"id": 1, "createDate": "2016-03-30T13:10:35.563", "unitPrice": 1.1})
    assert s.create_date == datetime(2016, 3, 30, 13, 10, 35, 563000, tzinfo=UTC)
    assert s.unit_price == Decimal("1.1")


def test_pascal_case_answers_read_like_camel_case(creds) -> None:
    """SW24 spells everything PascalCase; the client reads either spelling."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.lower()
        if path.endswith("zoneinformation"):
            return httpx.Response(
                200,
                json={"ZoneName": "P", "Url": "https://ws14.autotask.net/ATServicesRest/", "CI": 1},
            )
        if path.endswith("/services/query"):
            item = {"Id": 4, "Name": "PC_x", "UnitPrice": 2.5, "BillingCodeID": 9, "IsActive": True}
            return httpx.Response(
                200, json={"Items": [item], "PageDetails": {"Count": 1, "NextPageUrl": None}}
            )
        if path.endswith("/services") and request.method == "POST":
            return httpx.Response(200, json={"ItemId": 12})
        return httpx.Response(
            500,
            json={"Errors": ["Value does not exist for the required field name. "], "ErrorId": 3},
        )

    from autotask_client import AutotaskClient, ValidationError

    client = AutotaskClient(creds, http=httpx.Client(transport=httpx.MockTransport(handler)))
    assert client.zone().url.startswith("https://ws14.")
    (service,) = client.services.query()
    assert (service.id, service.name, service.billing_code_id, service.is_active) == (
        4,
        "PC_x",
        9,
        True,
    )
    assert client.services.create({"name": "PC_y"}) == 12
    with pytest.raises(ValidationError) as caught:
        client.services.update(4, {"name": ""})
    assert caught.value.errors and caught.value.error_id == 3
