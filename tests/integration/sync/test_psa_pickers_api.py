"""The live pickers of Autotask companies and contracts (S2, S4) are cursor connections paged
with Autotask's own query paging, not lists cut at 50: with 120 more companies in the
simulator every one is reachable, totalCount is right, a search narrows, a bad cursor is a
clear error. Through the GraphQL API against the simulator."""

from __future__ import annotations

from typing import Any

import pytest

from autotask_sim import SimHandle
from autotask_sim.seed import CUSTOMER_IDS, VENDOR_COMPANY_ID
from tests.integration.sync.mapping_support import connect
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

COMPANIES = """query($first: Int, $after: String, $search: String, $vendors: Boolean! = false) {
  psaCompanies(first: $first, after: $after, search: $search, vendorsOnly: $vendors) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name detail } } } }"""
CONTRACTS = """query($first: Int, $after: String, $company: Int, $search: String) {
  psaContracts(first: $first, after: $after, companyId: $company, search: $search) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }"""
SEEDED_ACTIVE = 5  # the simulator's own companies (autotask_sim.seed), all active
MORE = 120


def add_companies(autotask: SimHandle, count: int) -> list[int]:
    return [
        autotask.sim.rules.create(
            "Companies",
            {
                "companyName": f"Picker Customer {n:03d}",
                "companyNumber": f"PC{n:03d}",
                "companyType": 1,
                "phone": "+61 2 5550 0199",
                "ownerResourceID": 29682885,
                "isActive": True,
            },
        )
        for n in range(count)
    ]


def add_contracts(autotask: SimHandle, company: int, count: int) -> list[int]:
    return [
        autotask.sim.rules.create(
            "Contracts",
            {
                "companyID": company,
                "contractName": f"Recurring {n:02d}",
                "contractType": 7,
                "contractCategory": 1,
                "contractPeriodType": 1,
                "status": 1,
                "startDate": "2024-01-01T00:00:00",
                "endDate": "2031-12-31T00:00:00",
            },
        )
        for n in range(count)
    ]


async def walk(
    admin: GraphQLClient, query: str, field: str, first: int, **variables: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every entry, following endCursor; and each page's connection."""
    seen: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        data = await admin.data(query, {"first": first, "after": after, **variables})
        page = data[field]
        pages.append(page)
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, pages
        after = page["pageInfo"]["endCursor"]
        assert len(pages) < 50, "the paging never ends"


async def test_every_company_is_reachable_page_by_page_with_the_right_total(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    added = add_companies(autotask, MORE)
    admin = api.as_(tenants.a.admin)
    await connect(api, tenants.a.admin)
    autotask.sim.request_log.clear()

    companies, pages = await walk(admin, COMPANIES, "psaCompanies", 50)

    assert len(companies) == SEEDED_ACTIVE + MORE
    assert {c["id"] for c in companies} >= set(added) | {VENDOR_COMPANY_ID, *CUSTOMER_IDS}
    assert len({c["id"] for c in companies}) == len(companies)  # nothing twice
    assert [len(p["edges"]) for p in pages] == [50, 50, 25]
    assert {p["totalCount"] for p in pages} == {SEEDED_ACTIVE + MORE}
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    first_page = pages[0]
    assert first_page["pageInfo"]["endCursor"] == first_page["edges"][-1]["cursor"]
    # one query per page and one count per page asked for it, each of at most 50 records
    queries = [p for m, p, _ in autotask.sim.request_log if p.endswith("/Companies/query")]
    counts = [p for m, p, _ in autotask.sim.request_log if p.endswith("/Companies/query/count")]
    assert (len(queries), len(counts)) == (3, 3)


async def test_a_page_can_hold_up_to_autotasks_500_and_not_more(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    add_companies(autotask, MORE)
    admin = api.as_(tenants.a.admin)
    await connect(api, tenants.a.admin)

    everything = (await admin.data(COMPANIES, {"first": 500}))["psaCompanies"]
    too_many = await admin.post(COMPANIES, {"first": 501})
    none = await admin.post(COMPANIES, {"first": 0})
    default = (await admin.data(COMPANIES))["psaCompanies"]

    assert len(everything["edges"]) == SEEDED_ACTIVE + MORE
    assert everything["pageInfo"]["hasNextPage"] is False
    for refused in (too_many, none):
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "between 1 and 500" in refused["errors"][0]["message"]
    assert len(default["edges"]) == 50 and default["pageInfo"]["hasNextPage"] is True


async def test_a_search_narrows_the_pages_and_their_total(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    add_companies(autotask, MORE)
    admin = api.as_(tenants.a.admin)
    await connect(api, tenants.a.admin)

    found, pages = await walk(admin, COMPANIES, "psaCompanies", 4, search="  customer 01 ")
    vendors = (await admin.data(COMPANIES, {"vendors": True}))["psaCompanies"]

    assert [c["name"] for c in found] == [f"Picker Customer {n:03d}" for n in range(10, 20)]
    assert {p["totalCount"] for p in pages} == {10}
    assert [len(p["edges"]) for p in pages] == [4, 4, 2]
    assert [e["node"]["id"] for e in vendors["edges"]] == [VENDOR_COMPANY_ID]
    assert vendors["totalCount"] == 1


async def test_a_bad_or_foreign_cursor_is_a_clear_error(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    add_companies(autotask, MORE)
    admin = api.as_(tenants.a.admin)
    await connect(api, tenants.a.admin)
    page = (await admin.data(COMPANIES, {"first": 10}))["psaCompanies"]
    cursor = page["pageInfo"]["endCursor"]

    garbage = await admin.post(COMPANIES, {"after": "not-a-cursor"})
    other_search = await admin.post(COMPANIES, {"after": cursor, "search": "Picker"})
    other_list = await admin.post(CONTRACTS, {"after": cursor})

    for refused in (garbage, other_search, other_list):
        assert refused["data"] is None
        [error] = refused["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "cursor is not valid" in error["message"]
        assert "start again without it" in error["message"]


async def test_contracts_of_a_company_page_the_same_way(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    company = add_companies(autotask, 1)[0]
    added = add_contracts(autotask, company, 60)
    admin = api.as_(tenants.a.admin)
    await connect(api, tenants.a.admin)

    contracts, pages = await walk(admin, CONTRACTS, "psaContracts", 25, company=company)
    searched = (await admin.data(CONTRACTS, {"company": company, "search": "recurring 5"}))[
        "psaContracts"
    ]
    everyone = (await admin.data(CONTRACTS, {"first": 1}))["psaContracts"]

    assert [c["id"] for c in contracts] == added
    assert [len(p["edges"]) for p in pages] == [25, 25, 10]
    assert {p["totalCount"] for p in pages} == {60}
    assert searched["totalCount"] == 10
    # the seed's two active recurring contracts in force today, and the 60
    assert everyone["totalCount"] == 62


async def test_without_a_connection_the_pickers_say_so_and_other_partners_see_nothing(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle
) -> None:
    await connect(api, tenants.a.admin)

    b = await api.as_(tenants.b.admin).post(COMPANIES)

    assert b["data"] is None
    assert b["errors"][0]["extensions"]["code"] == "PSA_UNAVAILABLE"
    assert "Connect to Autotask first" in b["errors"][0]["message"]
