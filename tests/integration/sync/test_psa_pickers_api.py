"""The live pickers of PSA companies and contracts (S2, S4) are cursor connections paged
with the PSA's own paging, not lists cut at 50: with 120 more companies in the simulator
every one is reachable, totalCount is right, a search narrows, a bad cursor is a clear
error. Through the GraphQL API against the simulator of each PSA (`psa_side`): Autotask's
companies and Recurring Service contracts, ConnectWise's companies and agreements. What
differs between them (their seeds, how a company or contract is added by hand, the paths
of their requests, whether a vendors-only list narrows) is `Picking`, one row per PSA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from autotask_sim.seed import CUSTOMER_IDS, VENDOR_COMPANY_ID
from connectwise_sim.entities import COMPANIES as CW_COMPANIES
from connectwise_sim.seed import CUSTOMER_IDS as CW_CUSTOMER_IDS
from connectwise_sim.seed import OWN_COMPANY_ID as CW_OWN_COMPANY_ID
from prism_domain.sync import PsaKind
from tests.integration.sync.mapping_support import connect
from tests.support.connectwise import ConnectWise
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.sides import AutotaskSide, ConnectWiseSide, PsaSide

pytestmark = pytest.mark.integration

COMPANIES = """query($psa: Psa!, $first: Int, $after: String, $search: String,
  $vendors: Boolean! = false) {
  psaCompanies(psa: $psa, first: $first, after: $after, search: $search, vendorsOnly: $vendors) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name detail } } } }"""
CONTRACTS = """query($psa: Psa!, $first: Int, $after: String, $company: Int, $search: String) {
  psaContracts(psa: $psa, first: $first, after: $after, companyId: $company, search: $search) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }"""
MORE = 120


def _autotask_companies(side: AutotaskSide, count: int) -> list[int]:
    return [
        side.handle.sim.rules.create(
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


def _autotask_contracts(side: AutotaskSide, company: int, count: int) -> list[int]:
    return [
        side.handle.sim.rules.create(
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


def _connectwise_companies(side: ConnectWiseSide, count: int) -> list[int]:
    store = side.cw.sim.store
    added = []
    for n in range(count):
        company = store.new_id(CW_COMPANIES, start=1000)
        store.put(
            CW_COMPANIES,
            {
                "id": company,
                "identifier": f"PC{n:03d}",
                "name": f"Picker Customer {n:03d}",
                "status": {"id": 1, "name": "Active"},
                "types": [{"id": 1, "name": "Client"}],
                "deletedFlag": False,
                "phoneNumber": "0255500199",
            },
        )
        added.append(company)
    return added


def _connectwise_contracts(side: ConnectWiseSide, company: int, count: int) -> list[int]:
    cw: ConnectWise = side.cw
    return [cw.add_agreement(company=company, name=f"Recurring {n:02d}") for n in range(count)]


@dataclass(frozen=True)
class Picking:
    """What the pickers' tests expect of one PSA."""

    kind: PsaKind
    seeded: int  # the simulator's own active companies
    known: set[int]  # some of them
    vendors: list[int] | None  # a vendors-only list; None: the PSA cannot narrow to vendors
    in_force: int  # the seed's contracts a customer can sync to today
    companies_path: str  # the company query's path, and its count's
    count_path: str
    add_companies: Callable[[Any, int], list[int]]
    add_contracts: Callable[[Any, int, int], list[int]]


PICKING = {
    PsaKind.AUTOTASK: Picking(
        PsaKind.AUTOTASK,
        seeded=5,
        known={VENDOR_COMPANY_ID, *CUSTOMER_IDS},
        vendors=[VENDOR_COMPANY_ID],
        in_force=2,  # two active Recurring Service contracts
        companies_path="/Companies/query",
        count_path="/Companies/query/count",
        add_companies=_autotask_companies,
        add_contracts=_autotask_contracts,
    ),
    PsaKind.CONNECTWISE: Picking(
        PsaKind.CONNECTWISE,
        seeded=4,
        known={CW_OWN_COMPANY_ID, *CW_CUSTOMER_IDS},
        # a company's types are a list ConnectWise's conditions cannot reach
        vendors=None,
        in_force=2,  # Acme's and Globex's agreements (the third is cancelled)
        companies_path="/company/companies",
        count_path="/company/companies/count",
        add_companies=_connectwise_companies,
        add_contracts=_connectwise_contracts,
    ),
}


def picking(side: PsaSide) -> Picking:
    return PICKING[side.kind]


def add_companies(side: PsaSide, count: int) -> list[int]:
    return picking(side).add_companies(side, count)


def add_contracts(side: PsaSide, company: int, count: int) -> list[int]:
    return picking(side).add_contracts(side, company, count)


def request_log(side: PsaSide) -> Any:
    return (
        side.handle.sim.request_log if isinstance(side, AutotaskSide) else side.cw.sim.request_log
    )


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
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    expect = picking(psa_side)
    added = add_companies(psa_side, MORE)
    admin = side_api.as_(tenants.a.admin)
    await connect(side_api, tenants.a.admin, psa_side)
    request_log(psa_side).clear()

    companies, pages = await walk(admin, COMPANIES, "psaCompanies", 50, psa=expect.kind.name)

    assert len(companies) == expect.seeded + MORE
    assert {c["id"] for c in companies} >= set(added) | expect.known
    assert len({c["id"] for c in companies}) == len(companies)  # nothing twice
    assert [len(p["edges"]) for p in pages] == [50, 50, expect.seeded + MORE - 100]
    assert {p["totalCount"] for p in pages} == {expect.seeded + MORE}
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    first_page = pages[0]
    assert first_page["pageInfo"]["endCursor"] == first_page["edges"][-1]["cursor"]
    # one query per page and one count per page asked for it
    log = [p.split("?")[0] for m, p, _ in request_log(psa_side)]
    queries = [p for p in log if p.endswith(expect.companies_path)]
    counts = [p for p in log if p.endswith(expect.count_path)]
    assert (len(queries), len(counts)) == (3, 3)


async def test_a_page_can_hold_up_to_500_and_not_more(
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    expect = picking(psa_side)
    add_companies(psa_side, MORE)
    admin = side_api.as_(tenants.a.admin)
    await connect(side_api, tenants.a.admin, psa_side)
    psa = {"psa": expect.kind.name}

    everything = (await admin.data(COMPANIES, {**psa, "first": 500}))["psaCompanies"]
    too_many = await admin.post(COMPANIES, {**psa, "first": 501})
    none = await admin.post(COMPANIES, {**psa, "first": 0})
    default = (await admin.data(COMPANIES, psa))["psaCompanies"]

    assert len(everything["edges"]) == expect.seeded + MORE
    assert everything["pageInfo"]["hasNextPage"] is False
    for refused in (too_many, none):
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert "between 1 and 500" in refused["errors"][0]["message"]
    assert len(default["edges"]) == 50 and default["pageInfo"]["hasNextPage"] is True


async def test_a_search_narrows_the_pages_and_their_total(
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    expect = picking(psa_side)
    add_companies(psa_side, MORE)
    admin = side_api.as_(tenants.a.admin)
    await connect(side_api, tenants.a.admin, psa_side)

    found, pages = await walk(
        admin, COMPANIES, "psaCompanies", 4, psa=expect.kind.name, search="  customer 01 "
    )
    vendors = (await admin.data(COMPANIES, {"psa": expect.kind.name, "vendors": True}))[
        "psaCompanies"
    ]

    assert [c["name"] for c in found] == [f"Picker Customer {n:03d}" for n in range(10, 20)]
    assert {p["totalCount"] for p in pages} == {10}
    assert [len(p["edges"]) for p in pages] == [4, 4, 2]
    if expect.vendors is not None:
        assert [e["node"]["id"] for e in vendors["edges"]] == expect.vendors
        assert vendors["totalCount"] == len(expect.vendors)
    else:  # the PSA's companies, not narrowed
        assert vendors["totalCount"] == expect.seeded + MORE


async def test_a_bad_or_foreign_cursor_is_a_clear_error(
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    psa = {"psa": picking(psa_side).kind.name}
    add_companies(psa_side, MORE)
    admin = side_api.as_(tenants.a.admin)
    await connect(side_api, tenants.a.admin, psa_side)
    page = (await admin.data(COMPANIES, {**psa, "first": 10}))["psaCompanies"]
    cursor = page["pageInfo"]["endCursor"]

    garbage = await admin.post(COMPANIES, {**psa, "after": "not-a-cursor"})
    other_search = await admin.post(COMPANIES, {**psa, "after": cursor, "search": "Picker"})
    other_list = await admin.post(CONTRACTS, {**psa, "after": cursor})
    other_psa = "CONNECTWISE" if psa["psa"] == "AUTOTASK" else "AUTOTASK"
    other_psas = await admin.post(COMPANIES, {"psa": other_psa, "after": cursor})

    for refused in (garbage, other_search, other_list, other_psas):
        assert refused["data"] is None
        [error] = refused["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "cursor is not valid" in error["message"]
        assert "start again without it" in error["message"]


async def test_contracts_of_a_company_page_the_same_way(
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    expect = picking(psa_side)
    psa = {"psa": expect.kind.name}
    company = add_companies(psa_side, 1)[0]
    added = add_contracts(psa_side, company, 60)
    admin = side_api.as_(tenants.a.admin)
    await connect(side_api, tenants.a.admin, psa_side)

    contracts, pages = await walk(admin, CONTRACTS, "psaContracts", 25, company=company, **psa)
    searched = (await admin.data(CONTRACTS, {**psa, "company": company, "search": "recurring 5"}))[
        "psaContracts"
    ]
    everyone = (await admin.data(CONTRACTS, {**psa, "first": 1}))["psaContracts"]

    assert [c["id"] for c in contracts] == added
    assert [len(p["edges"]) for p in pages] == [25, 25, 10]
    assert {p["totalCount"] for p in pages} == {60}
    assert searched["totalCount"] == 10
    # the seed's contracts in force today, and the 60
    assert everyone["totalCount"] == expect.in_force + 60


async def test_without_a_connection_the_pickers_say_so_and_other_partners_see_nothing(
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    await connect(side_api, tenants.a.admin, psa_side)
    psa = {"psa": picking(psa_side).kind.name}

    b = await side_api.as_(tenants.b.admin).post(COMPANIES, psa)
    b_contracts = await side_api.as_(tenants.b.admin).post(CONTRACTS, psa)

    for refused in (b, b_contracts):
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "PSA_UNAVAILABLE"
        assert f"Connect to {psa_side.kind.label} first" in refused["errors"][0]["message"]
