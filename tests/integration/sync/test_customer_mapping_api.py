"""S4 customer mapping and S9 per-customer sync through the GraphQL API, checked live against
the simulator of each PSA (`psa_side`): an Autotask company and Recurring Service contract, or
a ConnectWise company and agreement; "save and sync now" through the outbox; tenancy (T3).
The seeds' companies and contracts, and the words a PSA's refusal uses, are `Seeded`, one
row per PSA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from connectwise_sim.entities import COMPANIES as CW_COMPANIES
from connectwise_sim.seed import AGREEMENT_ID, CANCELLED_AGREEMENT_ID, SECOND_AGREEMENT_ID
from connectwise_sim.seed import CUSTOMER_IDS as CW_CUSTOMER_IDS
from prism_graph.database import Database
from tests.integration.sync.mapping_support import (
    CONTOSO,
    CONTOSO_CONTRACT,
    FABRIKAM,
    FABRIKAM_CANCELLED,
    FABRIKAM_CONTRACT,
    NORTHWIND,
    NORTHWIND_EXPIRED,
    NORTHWIND_TM,
    SAVE,
    Setup,
    add_tenant,
    connect,
    given_partner_a_with_customers,
    invoice_sync_events,
    mapping_input,
    mappings_stored,
    program_sync,
)
from tests.support.catalogue import create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.sides import AutotaskSide, ConnectWiseSide, PsaSide
from tests.support.sql import count_statements

pytestmark = pytest.mark.integration

LIST = """query($p: ID!, $search: String, $order: SyncCustomerOrder, $first: Int, $after: String) {
  syncCustomers(programId: $p, search: $search, orderBy: $order, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { customer { name } tenantDomain tenantDomains
      mapping { company { id name } contract { id name } syncEnabled }
      lastInvoiceSync { outcome } } } } }"""
TOGGLE = """mutation($input: SetCustomerSyncInput!) { setCustomerSync(input: $input) {
  mapping { syncEnabled contract { id } } syncRequested errors { field code message } } }"""
REMOVE = """mutation($input: RemoveCustomerMappingInput!) { removeCustomerMapping(input: $input) {
  removed errors { field code message } } }"""
SUGGEST = """query($p: ID!, $c: ID!) { customerMappingSuggestions(programId: $p, customerId: $c) {
  company { id name detail } score reasons } }"""


@dataclass(frozen=True)
class Seeded:
    """The PSA's companies and contracts the tests map to, and its refusals' words."""

    contoso: int  # a company, with an active recurring contract
    contoso_name: str
    contoso_contract: int
    contoso_contract_name: str
    fabrikam: int  # another company, with its own
    fabrikam_contract: int
    cancelled: tuple[int, int]  # (company, its cancelled contract)
    expired: tuple[int, int]  # (company, its contract that ended)
    not_recurring: tuple[int, int]  # (company, its contract that bills no units)
    not_recurring_says: str
    northwind: int  # a third company
    edit_company: Callable[..., None]  # (company, name=, web=): a person's edit in the PSA
    request_log: Any


def _autotask(side: AutotaskSide) -> Seeded:
    sim = side.handle.sim

    def edit(company: int, *, name: str | None = None, web: str | None = None) -> None:
        fields = {"companyName": name} if name else {"webAddress": web}
        sim.edit("Companies", company, **fields)

    return Seeded(
        contoso=CONTOSO,
        contoso_name="Contoso Pty Ltd",
        contoso_contract=CONTOSO_CONTRACT,
        contoso_contract_name="Contoso Managed Services",
        fabrikam=FABRIKAM,
        fabrikam_contract=FABRIKAM_CONTRACT,
        cancelled=(FABRIKAM, FABRIKAM_CANCELLED),
        expired=(NORTHWIND, NORTHWIND_EXPIRED),
        not_recurring=(NORTHWIND, NORTHWIND_TM),
        not_recurring_says="not a Recurring Service",
        northwind=NORTHWIND,
        edit_company=edit,
        request_log=sim.request_log,
    )


def _connectwise(side: ConnectWiseSide) -> Seeded:
    cw = side.cw
    acme, globex, initech = CW_CUSTOMER_IDS
    expired = cw.add_agreement(
        company=initech, start=date(2019, 1, 1), end=date(2020, 12, 31), name="Initech 2020"
    )
    not_prorating = cw.add_agreement(company=initech, prorate=False, name="Initech T&M")

    def edit(company: int, *, name: str | None = None, web: str | None = None) -> None:
        fields = {"name": name} if name else {"website": web}
        cw.sim.edit(CW_COMPANIES, company, **fields)

    return Seeded(
        contoso=acme,
        contoso_name="Acme Pty Ltd",
        contoso_contract=AGREEMENT_ID,
        contoso_contract_name="Acme Managed",
        fabrikam=globex,
        fabrikam_contract=SECOND_AGREEMENT_ID,
        cancelled=(initech, CANCELLED_AGREEMENT_ID),
        expired=(initech, expired),
        not_recurring=(initech, not_prorating),
        not_recurring_says="does not bill additions",
        northwind=initech,
        edit_company=edit,
        request_log=cw.sim.request_log,
    )


@pytest.fixture
def seeded(psa_side: PsaSide) -> Seeded:
    return _autotask(psa_side) if isinstance(psa_side, AutotaskSide) else _connectwise(psa_side)


@pytest.fixture
async def setup(
    side_api: GraphQLClient, client: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> Setup:
    return await given_partner_a_with_customers(side_api, client, tenants, side=psa_side)


def names(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["node"]["customer"]["name"] for e in page["syncCustomers"]["edges"]]


REFUSALS: dict[str, Callable[[Seeded], tuple[int, int]]] = {
    "no such company": lambda s: (999_999, s.contoso_contract),
    "no such contract": lambda s: (s.contoso, 999_999),
    "another company's": lambda s: (s.contoso, s.fabrikam_contract),
    "cancelled": lambda s: s.cancelled,
    "ended": lambda s: s.expired,
    "not recurring": lambda s: s.not_recurring,
}


@pytest.mark.parametrize(
    ("case", "field", "code", "says"),
    [
        ("no such company", "input.companyId", "NOT_FOUND", "No active {psa} company"),
        ("no such contract", "input.contractId", "NOT_FOUND", "No {psa} contract"),
        ("another company's", "input.contractId", "INVALID", "belongs to another company"),
        ("cancelled", "input.contractId", "NOT_ALLOWED", "is not active"),
        ("ended", "input.contractId", "NOT_ALLOWED", "is not active"),
        ("not recurring", "input.contractId", "NOT_ALLOWED", "{not_recurring}"),
    ],
)
async def test_a_company_and_contract_that_cannot_be_synced_are_refused_and_nothing_is_saved(
    side_api: GraphQLClient,
    tenants: Tenants,
    setup: Setup,
    seeded: Seeded,
    psa_side: PsaSide,
    sync_engine: Engine,
    case: str,
    field: str,
    code: str,
    says: str,
) -> None:
    a = side_api.as_(tenants.a.admin)
    company, contract = REFUSALS[case](seeded)
    says = says.format(psa=psa_side.kind.label, not_recurring=seeded.not_recurring_says)

    data = await a.data(SAVE, mapping_input(setup, "Contoso", company, contract, now=True))

    payload = data["saveCustomerMapping"]
    assert payload["mapping"] is None and payload["syncRequested"] is False
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert says in payload["errors"][0]["message"]
    assert mappings_stored(sync_engine) == 0
    assert invoice_sync_events(sync_engine) == []


async def test_save_stores_the_names_and_save_and_sync_now_requests_exactly_one_sync(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded, sync_engine: Engine
) -> None:
    a = side_api.as_(tenants.a.admin)

    saved = await a.data(
        SAVE, mapping_input(setup, "Fabrikam", seeded.fabrikam, seeded.fabrikam_contract)
    )
    assert invoice_sync_events(sync_engine) == []
    synced = await a.data(
        SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract, now=True)
    )

    assert saved["saveCustomerMapping"]["errors"] == []
    assert saved["saveCustomerMapping"]["syncRequested"] is False
    payload = synced["saveCustomerMapping"]
    assert payload["errors"] == [] and payload["syncRequested"] is True
    assert payload["mapping"]["company"] == {"id": seeded.contoso, "name": seeded.contoso_name}
    assert payload["mapping"]["contract"] == {
        "id": seeded.contoso_contract,
        "name": seeded.contoso_contract_name,
    }
    [event] = invoice_sync_events(sync_engine)
    assert event["trigger"] == "SAVE_AND_SYNC"
    assert event["partner_id"] == tenants.a.id
    assert event["customer_id"] == int(_pk(setup["Contoso"]))
    assert event["program_id"] == int(_pk(setup.program))
    listed = await a.data(LIST, {"p": setup.program, "search": "contoso"})
    [row] = [e["node"] for e in listed["syncCustomers"]["edges"]]
    assert row["mapping"]["company"]["name"] == seeded.contoso_name
    assert row["mapping"]["syncEnabled"] is True
    assert row["lastInvoiceSync"] is None


async def test_a_contract_mapped_to_one_customer_is_refused_for_another(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded, sync_engine: Engine
) -> None:
    """Two customers' invoices on one contract would overwrite each other's units (S4, S5)."""
    a = side_api.as_(tenants.a.admin)
    first = await a.data(
        SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract)
    )
    assert first["saveCustomerMapping"]["errors"] == []

    second = await a.data(
        SAVE, mapping_input(setup, "Fabrikam", seeded.contoso, seeded.contoso_contract)
    )
    again = await a.data(
        SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract)
    )

    payload = second["saveCustomerMapping"]
    assert payload["mapping"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("input.contractId", "CONFLICT")
    ]
    assert "already mapped to Contoso" in payload["errors"][0]["message"]
    assert mappings_stored(sync_engine) == 1
    assert again["saveCustomerMapping"]["errors"] == []  # its own contract, saved again


async def test_sync_now_needs_the_customers_sync_on_and_the_programs(
    side_api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    setup: Setup,
    seeded: Seeded,
    psa_side: PsaSide,
    sync_engine: Engine,
) -> None:
    a = side_api.as_(tenants.a.admin)

    customer_off = await a.data(
        SAVE,
        mapping_input(
            setup, "Contoso", seeded.contoso, seeded.contoso_contract, sync=False, now=True
        ),
    )
    other_program = await create_program(client)
    await program_sync(side_api, tenants.a.admin, other_program, enabled=False, side=psa_side)
    await add_tenant(side_api, tenants.a.admin, other_program, setup["Contoso"], "contoso.example")
    off = Setup(other_program, setup.customers)
    program_off = await a.data(
        SAVE, mapping_input(off, "Contoso", seeded.contoso, seeded.contoso_contract, now=True)
    )

    for data in (customer_off, program_off):
        errors = data["saveCustomerMapping"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("input.syncNow", "NOT_ALLOWED")]
    assert (
        "Turn the customer's sync on" in customer_off["saveCustomerMapping"]["errors"][0]["message"]
    )
    assert mappings_stored(sync_engine) == 0
    assert invoice_sync_events(sync_engine) == []


async def test_sync_is_switched_off_and_on_without_remapping_and_a_mapping_can_be_removed(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded, sync_engine: Engine
) -> None:
    a = side_api.as_(tenants.a.admin)
    key = {"programId": setup.program, "customerId": setup["Contoso"]}
    unmapped = await a.data(TOGGLE, {"input": {**key, "syncEnabled": True}})
    await a.data(SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract))

    off = await a.data(TOGGLE, {"input": {**key, "syncEnabled": False}})
    on = await a.data(TOGGLE, {"input": {**key, "syncEnabled": True}})
    removed = await a.data(REMOVE, {"input": key})
    again = await a.data(REMOVE, {"input": key})

    assert [e["code"] for e in unmapped["setCustomerSync"]["errors"]] == ["NOT_ALLOWED"]
    assert "map it" in unmapped["setCustomerSync"]["errors"][0]["message"]
    assert off["setCustomerSync"]["mapping"] == {
        "syncEnabled": False,
        "contract": {"id": seeded.contoso_contract},
    }
    assert on["setCustomerSync"]["mapping"]["syncEnabled"] is True
    assert invoice_sync_events(sync_engine) == []  # switching on syncs at the next invoice
    assert removed["removeCustomerMapping"] == {"removed": True, "errors": []}
    assert [e["code"] for e in again["removeCustomerMapping"]["errors"]] == ["NOT_ALLOWED"]
    assert mappings_stored(sync_engine) == 0


async def test_the_customers_list_is_searched_sorted_and_paged(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded
) -> None:
    a = side_api.as_(tenants.a.admin)
    await a.data(
        SAVE,
        mapping_input(setup, "Fabrikam", seeded.fabrikam, seeded.fabrikam_contract, sync=False),
    )
    await a.data(SAVE, mapping_input(setup, "Adatum", seeded.contoso, seeded.contoso_contract))

    by_name = await a.data(LIST, {"p": setup.program})
    by_tenant = await a.data(LIST, {"p": setup.program, "order": {"field": "TENANT"}})
    by_company = await a.data(
        LIST, {"p": setup.program, "order": {"field": "COMPANY", "direction": "DESC"}}
    )
    by_sync = await a.data(
        LIST, {"p": setup.program, "order": {"field": "SYNC", "direction": "DESC"}}
    )
    searched_tenant = await a.data(LIST, {"p": setup.program, "search": "ZZ-ADATUM"})
    first = await a.data(LIST, {"p": setup.program, "first": 2})
    cursor = first["syncCustomers"]["pageInfo"]["endCursor"]
    second = await a.data(LIST, {"p": setup.program, "first": 2, "after": cursor})

    # the customer without a tenant in the program is not listed
    assert names(by_name) == ["Adatum", "Contoso", "Fabrikam"]
    assert by_name["syncCustomers"]["totalCount"] == 3
    assert names(by_tenant) == ["Contoso", "Fabrikam", "Adatum"]
    assert names(by_company) == ["Fabrikam", "Adatum", "Contoso"]  # unmapped last
    assert names(by_sync)[0] == "Adatum"
    assert names(searched_tenant) == ["Adatum"]
    assert names(first) + names(second) == ["Adatum", "Contoso", "Fabrikam"]
    assert first["syncCustomers"]["pageInfo"]["hasNextPage"] is True
    assert second["syncCustomers"]["pageInfo"]["hasNextPage"] is False
    adatum = by_name["syncCustomers"]["edges"][0]["node"]
    assert adatum["tenantDomain"].startswith("zz-adatum")
    assert adatum["mapping"]["company"]["name"] == seeded.contoso_name


async def test_suggestions_are_ranked_with_their_score_and_reasons_and_never_applied(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded, sync_engine: Engine
) -> None:
    seeded.edit_company(seeded.contoso, web="https://www.contoso.com/")
    seeded.edit_company(seeded.contoso, name="Contoso Pty Ltd")
    seeded.edit_company(seeded.northwind, name="Contoso Group")
    seeded.request_log.clear()

    data = await side_api.as_(tenants.a.admin).data(
        SUGGEST, {"p": setup.program, "c": setup["Contoso"]}
    )

    ranked = data["customerMappingSuggestions"]
    assert [(s["company"]["id"], s["score"]) for s in ranked] == [
        (seeded.contoso, 100),
        (seeded.northwind, 40),
    ]
    assert ranked[0]["reasons"] == ["web domain contoso.com matches", "same name"]
    assert ranked[1]["reasons"] == ["same name"]
    assert mappings_stored(sync_engine) == 0
    company_reads = [p for m, p, _ in seeded.request_log if "companies" in p.lower()]
    assert len(company_reads) == 1  # one query for every candidate (N3)


async def test_another_partners_customer_or_one_without_a_tenant_is_not_found(
    side_api: GraphQLClient,
    tenants: Tenants,
    setup: Setup,
    seeded: Seeded,
    psa_side: PsaSide,
    sync_engine: Engine,
) -> None:
    a = side_api.as_(tenants.a.admin)
    b = side_api.as_(tenants.b.admin)
    await connect(side_api, tenants.b.admin, psa_side)
    await a.data(SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract))
    key = {"programId": setup.program, "customerId": setup["Contoso"]}

    no_tenant = await a.data(
        SAVE, mapping_input(setup, "No tenant", seeded.contoso, seeded.contoso_contract)
    )
    foreign_save = await b.data(
        SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract)
    )
    foreign_toggle = await b.data(TOGGLE, {"input": {**key, "syncEnabled": False}})
    foreign_remove = await b.data(REMOVE, {"input": key})
    foreign_list = await b.data(LIST, {"p": setup.program})
    foreign_suggest = await b.data(SUGGEST, {"p": setup.program, "c": setup["Contoso"]})
    member = await side_api.as_(tenants.a.member).post(
        SAVE, mapping_input(setup, "Fabrikam", seeded.fabrikam, seeded.fabrikam_contract)
    )
    acting = await side_api.as_(tenants.distributor.admin, prism_acting_for=tenants.a.gid).data(
        LIST, {"p": setup.program}
    )

    for payload in (
        no_tenant["saveCustomerMapping"],
        foreign_save["saveCustomerMapping"],
        foreign_toggle["setCustomerSync"],
        foreign_remove["removeCustomerMapping"],
    ):
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("input.customerId", "NOT_FOUND")
        ]
    assert foreign_list["syncCustomers"]["edges"] == []
    assert foreign_suggest["customerMappingSuggestions"] == []
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert names(acting) == ["Adatum", "Contoso", "Fabrikam"]
    assert mappings_stored(sync_engine) == 1
    still = await a.data(LIST, {"p": setup.program, "search": "contoso"})
    assert still["syncCustomers"]["edges"][0]["node"]["mapping"]["syncEnabled"] is True


async def test_mapping_needs_a_connection(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded
) -> None:
    b = side_api.as_(tenants.b.admin)
    customer = await b.data(
        'mutation { createCustomer(input: {name: "B customer"}) { customer { id } } }'
    )
    b_customer = customer["createCustomer"]["customer"]["id"]
    await b.data(
        "mutation($input: CreateTenantInput!) { createTenant(input: $input) { errors { code } } }",
        {"input": {"customerId": b_customer, "programId": setup.program, "domain": "b.example"}},
    )

    data = await b.data(
        SAVE,
        {
            "input": {
                "programId": setup.program,
                "customerId": b_customer,
                "companyId": seeded.contoso,
                "contractId": seeded.contoso_contract,
                "syncEnabled": True,
            }
        },
    )

    assert [e["code"] for e in data["saveCustomerMapping"]["errors"]] == ["PSA_NOT_CONNECTED"]


def _pk(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().partition(":")[2]


async def test_a_page_of_customers_costs_the_same_statements_whatever_its_size(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, seeded: Seeded, database: Database
) -> None:
    a = side_api.as_(tenants.a.admin)
    await a.data(SAVE, mapping_input(setup, "Contoso", seeded.contoso, seeded.contoso_contract))
    page = """query($p: ID!, $first: Int) { syncCustomers(programId: $p, first: $first) {
      edges { node { customer { name owner { name } } tenantDomain
        mapping { company { name } } lastInvoiceSync { outcome run { status } } } } } }"""

    with count_statements(database.engine) as one:
        await a.data(page, {"p": setup.program, "first": 1})
    with count_statements(database.engine) as three:
        await a.data(page, {"p": setup.program, "first": 3})

    assert three.count == one.count
