from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from autotask_client import MethodNotAllowedError, ValidationError
from autotask_client import query as q
from autotask_sim.seed import CUSTOMER_IDS, RECURRING_CONTRACT_ID

pytestmark = pytest.mark.integration

ALL = [{"op": "gte", "field": "id", "value": 0}]


def add_companies(sim, count: int, start: int = 5000) -> list[int]:
    ids = list(range(start, start + count))
    with sim.store.transaction():
        for i in ids:
            record = sim.rules.blank("Companies")
            record.update(
                {"id": i, "companyName": f"Bulk {i}", "companyType": 1, "isActive": i % 2 == 0}
            )
            sim.store.put("Companies", record)
    return ids


def test_every_operator_filters_like_autotask(client) -> None:
    def names(*filters):
        return sorted(c.company_name for c in client.companies.query(*filters))

    assert names(q.eq("companyName", "contoso pty ltd")) == ["Contoso Pty Ltd"]
    assert names(q.noteq("companyType", 1)) == [
        "Prism Demo MSP (own company)",
        "rhipe - Cloud Services",
    ]
    assert names(q.begins_with("companyName", "north")) == ["Northwind Traders"]
    assert names(q.ends_with("companyName", "HOLDINGS")) == ["Fabrikam Holdings"]
    assert names(q.contains("companyName", "wind")) == ["Northwind Traders"]
    assert names(q.gt("id", 176)) == ["Northwind Traders"]
    assert names(q.gte("id", 176), q.lte("id", 176)) == ["Fabrikam Holdings"]
    assert names(q.lt("id", 1)) == ["Prism Demo MSP (own company)"]
    assert names(q.in_("id", [175, 177])) == ["Contoso Pty Ltd", "Northwind Traders"]
    assert len(names(q.not_in("id", [175, 177]))) == 3
    assert len(names(q.exist("companyNumber"))) == 5
    assert names(q.not_exist("companyNumber")) == []
    assert names(
        q.or_(q.eq("id", 175), q.and_(q.eq("companyType", 7), q.eq("isActive", True)))
    ) == ["Contoso Pty Ltd", "rhipe - Cloud Services"]
    assert names(q.gte("createDate", "2023-07-01T00:00:00Z")) and not names(
        q.gt("createDate", "2023-07-02")
    )


def test_body_keys_and_field_names_are_case_insensitive(api) -> None:
    body = {
        "maxRecords": 2,
        "includeFields": ["COMPANYNAME"],
        "filter": [{"op": "EQ", "field": "ID", "value": 175}],
    }
    r = api("POST", "Companies/query", json=body)
    assert r.status_code == 200
    assert r.json()["items"] == [{"companyName": "Contoso Pty Ltd"}]


def test_include_fields_leaves_other_fields_absent_not_null(api) -> None:
    r = api("POST", "Companies/query", json={"IncludeFields": ["id", "companyName"], "Filter": ALL})
    assert all(set(item) == {"id", "companyName"} for item in r.json()["items"])
    full = api(
        "POST", "Companies/query", json={"Filter": [{"op": "eq", "field": "id", "value": 174}]}
    )
    item = full.json()["items"][0]
    assert item["fax"] is None and item["userDefinedFields"] == []


def test_udf_filters(client, sim) -> None:
    sim.edit("Companies", 175, userDefinedFields=[{"name": "Number of Employees", "value": "40"}])
    found = list(client.companies.query(q.gt("Number of Employees", 10, udf=True)))
    assert [c.id for c in found] == [175]
    assert client.companies.user_defined_fields()[0].name == "Number of Employees"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Filter": []}, "A query must contain at least one filter."),
        ({"MaxRecords": 501, "Filter": ALL}, "MaxRecords must be between 1 and 500."),
        (
            {"Filter": [{"op": "eq", "field": "isActive", "value": "true"}]},
            "Invalid boolean value for field isActive; use true or false.",
        ),
        ({"Filter": [{"op": "like", "field": "id", "value": 1}]}, "Invalid query operator: like."),
        (
            {"Filter": [{"op": "eq", "field": "nope", "value": 1}]},
            "Invalid field name in query: nope.",
        ),
        (
            {
                "Filter": [
                    {"op": "eq", "field": "a", "value": 1, "udf": True},
                    {"op": "eq", "field": "b", "value": 1, "udf": True},
                ]
            },
            "Only one user-defined field may be used in a query.",
        ),
    ],
)
def test_bad_queries_get_errors(api, body, message) -> None:
    r = api("POST", "Companies/query", json=body)
    assert r.status_code == 500
    assert r.json() == {"errors": [message]}


def test_too_many_or_conditions(api, sim) -> None:
    r = api(
        "POST",
        "Companies/query",
        json={"Filter": [{"op": "in", "field": "id", "value": list(range(501))}]},
    )
    assert r.status_code == 500
    assert "500 or fewer 'OR' conditions" in r.json()["errors"][0]


def test_the_client_splits_long_in_lists_to_stay_under_the_limit(client, sim) -> None:
    ids = add_companies(sim, 1200)
    found = [c.id for c in client.companies.query(q.in_("id", ids))]
    assert sorted(found) == ids
    assert client.companies.count(q.in_("id", ids)) == 1200


def test_pages_hold_500_and_the_next_page_is_posted_with_the_same_body(api, sim) -> None:
    add_companies(sim, 1200)
    body = {"Filter": [{"op": "beginsWith", "field": "companyName", "value": "Bulk"}]}
    first = api("POST", "Companies/query", json=body).json()
    details = first["pageDetails"]
    assert len(first["items"]) == 500 and details["count"] == 500 and details["requestCount"] == 500
    next_url = details["nextPageUrl"]
    assert next_url.startswith(
        "https://webservices2.autotask.net/ATServicesRest/V1.0/Companies/query/next?paging="
    )

    refused = api("GET", next_url)
    assert refused.status_code == 405
    assert refused.json() == {
        "Message": "The requested resource does not support http method 'GET'."
    }

    second = api("POST", next_url, json=body).json()
    third = api("POST", second["pageDetails"]["nextPageUrl"], json=body).json()
    assert len(second["items"]) == 500 and len(third["items"]) == 200
    assert third["pageDetails"]["nextPageUrl"] is None
    ids = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert ids == sorted(set(ids))

    other = api("POST", next_url, json={"Filter": ALL})
    assert other.status_code == 500


def test_the_client_reads_every_page(client, sim) -> None:
    add_companies(sim, 1100)
    assert len(list(client.companies.query(q.begins_with("companyName", "bulk")))) == 1100
    assert (
        len(list(client.companies.query_by_id_cursor(q.begins_with("companyName", "bulk")))) == 1100
    )


def test_get_queries_page_with_get(api, sim) -> None:
    add_companies(sim, 600)
    search = json.dumps({"filter": [{"op": "beginsWith", "field": "companyName", "value": "Bulk"}]})
    first = api("GET", "Companies/query", params={"search": search}).json()
    second = api("GET", first["pageDetails"]["nextPageUrl"]).json()
    assert len(first["items"]) + len(second["items"]) == 600


def test_over_long_get_urls_are_404(api) -> None:
    search = json.dumps({"filter": [{"op": "in", "field": "id", "value": list(range(400))}]})
    assert api("GET", "Companies/query", params={"search": search}).status_code == 404


def test_max_records_sets_the_page_size(api) -> None:
    r = api("POST", "Companies/query", json={"MaxRecords": 2, "Filter": ALL}).json()
    assert len(r["items"]) == 2 and r["pageDetails"]["requestCount"] == 2
    assert r["pageDetails"]["nextPageUrl"]


def test_count_and_get_by_id(api) -> None:
    assert api("POST", "Contracts/query/count", json={"filter": ALL}).json() == {"queryCount": 5}
    assert api("GET", f"Contracts/{RECURRING_CONTRACT_ID}").json()["item"]["contractType"] == 7
    assert api("GET", "Contracts/1").status_code == 404


def test_dates_come_back_in_utc_without_a_zone(client, api) -> None:
    raw = api("GET", f"Contracts/{RECURRING_CONTRACT_ID}").json()["item"]
    assert raw["startDate"] == "2024-01-01T00:00:00"
    contract = client.contracts.get(RECURRING_CONTRACT_ID)
    assert contract is not None and contract.start_date == date(2024, 1, 1)  # a day field
    assert contract.last_modified_date_time == datetime(2023, 7, 1, 9, 30, tzinfo=UTC)


def test_entities_the_api_cannot_query(client, api) -> None:
    r = api("POST", "ContractServiceAdjustments/query", json={"filter": ALL})
    assert r.status_code == 405
    with pytest.raises(MethodNotAllowedError):
        client.request("POST", "ContractServiceAdjustments/query", json={"filter": ALL})


def test_entity_information_and_fields(client) -> None:
    info = client.services.info()
    assert info.can_create and info.can_update and not info.can_delete
    assert not client.billing_codes.info().can_create
    fields = client.services.fields()
    assert fields.max_length("description") == 400
    assert fields.max_length("invoiceDescription") == 1000
    assert fields.field("NAME").is_required
    codes = client.billing_codes.fields()
    assert codes.value_for("useType", "Recurring Contract Service Code") == 5
    contract_types = client.contracts.fields()
    assert contract_types.value_for("contractType", "recurring service") == 7


def test_billing_codes_by_use_type(client) -> None:
    fields = client.billing_codes.fields()
    recurring = fields.value_for("useType", "Recurring Contract Service Code")
    codes = list(client.billing_codes.query(q.eq("useType", recurring), q.eq("isActive", True)))
    assert [c.name for c in codes] == ["Recurring Cloud Services"]


def test_contract_children_can_be_read_through_the_parent(client, sim) -> None:
    sim.adjust_units(RECURRING_CONTRACT_ID, 29683401, 3, "2024-02-01")
    services = list(client.contract_services.for_contract(RECURRING_CONTRACT_ID))
    assert [s.service_id for s in services] == [29683401]
    units = list(client.contract_service_units.for_contract(RECURRING_CONTRACT_ID))
    assert units and all(u.units == 3 for u in units)
    other = list(client.contract_service_units.for_contract(CUSTOMER_IDS[0]))
    assert other == []


def test_a_query_error_is_a_validation_error_for_the_client(client) -> None:
    with pytest.raises(ValidationError):
        list(client.companies.query(q.eq("nope", 1)))


def test_zone_lookups_are_not_counted_against_the_budget(api, http, sim) -> None:
    for _ in range(3):
        http.get(
            "https://webservices2.autotask.net/ATServicesRest/V1.0/ZoneInformation",
            params={"user": "prism-api@sim.autotask.test"},
        )
    assert api("GET", "ThresholdInformation").json()["currentTimeframeRequestCount"] == 1


def test_count_by_get_search(api) -> None:
    search = json.dumps({"filter": [{"op": "eq", "field": "contractType", "value": 7}]})
    assert api("GET", "Contracts/query/count", params={"search": search}).json() == {
        "queryCount": 4
    }
