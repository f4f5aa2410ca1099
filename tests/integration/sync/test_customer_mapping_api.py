"""S4 customer mapping and S9 per-customer sync through the GraphQL API, checked live against
the Autotask simulator; "save and sync now" through the outbox; tenancy (T3)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from autotask_sim import SimHandle
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


@pytest.fixture
async def setup(api: GraphQLClient, client: GraphQLClient, tenants: Tenants) -> Setup:
    return await given_partner_a_with_customers(api, client, tenants)


def names(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["node"]["customer"]["name"] for e in page["syncCustomers"]["edges"]]


@pytest.mark.parametrize(
    ("company", "contract", "field", "code", "says"),
    [
        (999_999, CONTOSO_CONTRACT, "input.companyId", "NOT_FOUND", "No active Autotask company"),
        (CONTOSO, 999_999, "input.contractId", "NOT_FOUND", "No Autotask contract"),
        (CONTOSO, FABRIKAM_CONTRACT, "input.contractId", "INVALID", "belongs to another company"),
        (FABRIKAM, FABRIKAM_CANCELLED, "input.contractId", "NOT_ALLOWED", "is not active"),
        (NORTHWIND, NORTHWIND_EXPIRED, "input.contractId", "NOT_ALLOWED", "is not active"),
        (NORTHWIND, NORTHWIND_TM, "input.contractId", "NOT_ALLOWED", "not a Recurring Service"),
    ],
)
async def test_a_company_and_contract_that_cannot_be_synced_are_refused_and_nothing_is_saved(
    api: GraphQLClient,
    tenants: Tenants,
    setup: Setup,
    sync_engine: Engine,
    company: int,
    contract: int,
    field: str,
    code: str,
    says: str,
) -> None:
    a = api.as_(tenants.a.admin)

    data = await a.data(SAVE, mapping_input(setup, "Contoso", company, contract, now=True))

    payload = data["saveCustomerMapping"]
    assert payload["mapping"] is None and payload["syncRequested"] is False
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert says in payload["errors"][0]["message"]
    assert mappings_stored(sync_engine) == 0
    assert invoice_sync_events(sync_engine) == []


async def test_save_stores_the_names_and_save_and_sync_now_requests_exactly_one_sync(
    api: GraphQLClient, tenants: Tenants, setup: Setup, sync_engine: Engine
) -> None:
    a = api.as_(tenants.a.admin)

    saved = await a.data(SAVE, mapping_input(setup, "Fabrikam", FABRIKAM, FABRIKAM_CONTRACT))
    assert invoice_sync_events(sync_engine) == []
    synced = await a.data(
        SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT, now=True)
    )

    assert saved["saveCustomerMapping"]["errors"] == []
    assert saved["saveCustomerMapping"]["syncRequested"] is False
    payload = synced["saveCustomerMapping"]
    assert payload["errors"] == [] and payload["syncRequested"] is True
    assert payload["mapping"]["company"] == {"id": CONTOSO, "name": "Contoso Pty Ltd"}
    assert payload["mapping"]["contract"] == {
        "id": CONTOSO_CONTRACT,
        "name": "Contoso Managed Services",
    }
    [event] = invoice_sync_events(sync_engine)
    assert event["trigger"] == "SAVE_AND_SYNC"
    assert event["partner_id"] == tenants.a.id
    assert event["customer_id"] == int(_pk(setup["Contoso"]))
    assert event["program_id"] == int(_pk(setup.program))
    listed = await a.data(LIST, {"p": setup.program, "search": "contoso"})
    [row] = [e["node"] for e in listed["syncCustomers"]["edges"]]
    assert row["mapping"]["company"]["name"] == "Contoso Pty Ltd"
    assert row["mapping"]["syncEnabled"] is True
    assert row["lastInvoiceSync"] is None


async def test_a_contract_mapped_to_one_customer_is_refused_for_another(
    api: GraphQLClient, tenants: Tenants, setup: Setup, sync_engine: Engine
) -> None:
    """Two customers' invoices on one contract would overwrite each other's units (S4, S5)."""
    a = api.as_(tenants.a.admin)
    first = await a.data(SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT))
    assert first["saveCustomerMapping"]["errors"] == []

    second = await a.data(SAVE, mapping_input(setup, "Fabrikam", CONTOSO, CONTOSO_CONTRACT))
    again = await a.data(SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT))

    payload = second["saveCustomerMapping"]
    assert payload["mapping"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("input.contractId", "CONFLICT")
    ]
    assert "already mapped to Contoso" in payload["errors"][0]["message"]
    assert mappings_stored(sync_engine) == 1
    assert again["saveCustomerMapping"]["errors"] == []  # its own contract, saved again


async def test_sync_now_needs_the_customers_sync_on_and_the_programs(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    setup: Setup,
    sync_engine: Engine,
) -> None:
    a = api.as_(tenants.a.admin)

    customer_off = await a.data(
        SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT, sync=False, now=True)
    )
    other_program = await create_program(client)
    await program_sync(api, tenants.a.admin, other_program, enabled=False)
    await add_tenant(api, tenants.a.admin, other_program, setup["Contoso"], "contoso.example")
    off = Setup(other_program, setup.customers)
    program_off = await a.data(
        SAVE, mapping_input(off, "Contoso", CONTOSO, CONTOSO_CONTRACT, now=True)
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
    api: GraphQLClient, tenants: Tenants, setup: Setup, sync_engine: Engine
) -> None:
    a = api.as_(tenants.a.admin)
    key = {"programId": setup.program, "customerId": setup["Contoso"]}
    unmapped = await a.data(TOGGLE, {"input": {**key, "syncEnabled": True}})
    await a.data(SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT))

    off = await a.data(TOGGLE, {"input": {**key, "syncEnabled": False}})
    on = await a.data(TOGGLE, {"input": {**key, "syncEnabled": True}})
    removed = await a.data(REMOVE, {"input": key})
    again = await a.data(REMOVE, {"input": key})

    assert [e["code"] for e in unmapped["setCustomerSync"]["errors"]] == ["NOT_ALLOWED"]
    assert "map it" in unmapped["setCustomerSync"]["errors"][0]["message"]
    assert off["setCustomerSync"]["mapping"] == {
        "syncEnabled": False,
        "contract": {"id": CONTOSO_CONTRACT},
    }
    assert on["setCustomerSync"]["mapping"]["syncEnabled"] is True
    assert invoice_sync_events(sync_engine) == []  # switching on syncs at the next invoice
    assert removed["removeCustomerMapping"] == {"removed": True, "errors": []}
    assert [e["code"] for e in again["removeCustomerMapping"]["errors"]] == ["NOT_ALLOWED"]
    assert mappings_stored(sync_engine) == 0


async def test_the_customers_list_is_searched_sorted_and_paged(
    api: GraphQLClient, tenants: Tenants, setup: Setup
) -> None:
    a = api.as_(tenants.a.admin)
    await a.data(SAVE, mapping_input(setup, "Fabrikam", FABRIKAM, FABRIKAM_CONTRACT, sync=False))
    await a.data(SAVE, mapping_input(setup, "Adatum", CONTOSO, CONTOSO_CONTRACT))

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
    assert adatum["mapping"]["company"]["name"] == "Contoso Pty Ltd"


async def test_suggestions_are_ranked_with_their_score_and_reasons_and_never_applied(
    api: GraphQLClient, tenants: Tenants, setup: Setup, autotask: SimHandle, sync_engine: Engine
) -> None:
    autotask.sim.edit("Companies", CONTOSO, webAddress="https://www.contoso.com/")
    autotask.sim.edit("Companies", NORTHWIND, companyName="Contoso Group")
    autotask.sim.request_log.clear()

    data = await api.as_(tenants.a.admin).data(SUGGEST, {"p": setup.program, "c": setup["Contoso"]})

    ranked = data["customerMappingSuggestions"]
    assert [(s["company"]["id"], s["score"]) for s in ranked] == [(CONTOSO, 100), (NORTHWIND, 40)]
    assert ranked[0]["reasons"] == ["web domain contoso.com matches", "same name"]
    assert ranked[1]["reasons"] == ["same name"]
    assert mappings_stored(sync_engine) == 0
    company_reads = [p for m, p, _ in autotask.sim.request_log if "Companies" in p]
    assert len(company_reads) == 1  # one query for every candidate (N3)


async def test_another_partners_customer_or_one_without_a_tenant_is_not_found(
    api: GraphQLClient, tenants: Tenants, setup: Setup, sync_engine: Engine
) -> None:
    a = api.as_(tenants.a.admin)
    b = api.as_(tenants.b.admin)
    await connect(api, tenants.b.admin)
    await a.data(SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT))
    key = {"programId": setup.program, "customerId": setup["Contoso"]}

    no_tenant = await a.data(SAVE, mapping_input(setup, "No tenant", CONTOSO, CONTOSO_CONTRACT))
    foreign_save = await b.data(SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT))
    foreign_toggle = await b.data(TOGGLE, {"input": {**key, "syncEnabled": False}})
    foreign_remove = await b.data(REMOVE, {"input": key})
    foreign_list = await b.data(LIST, {"p": setup.program})
    foreign_suggest = await b.data(SUGGEST, {"p": setup.program, "c": setup["Contoso"]})
    member = await api.as_(tenants.a.member).post(
        SAVE, mapping_input(setup, "Fabrikam", FABRIKAM, FABRIKAM_CONTRACT)
    )
    acting = await api.as_(tenants.distributor.admin, prism_acting_for=tenants.a.gid).data(
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
    api: GraphQLClient, client: GraphQLClient, tenants: Tenants, setup: Setup
) -> None:
    b = api.as_(tenants.b.admin)
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
                "companyId": CONTOSO,
                "contractId": CONTOSO_CONTRACT,
                "syncEnabled": True,
            }
        },
    )

    assert [e["code"] for e in data["saveCustomerMapping"]["errors"]] == ["PSA_NOT_CONNECTED"]


def _pk(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().partition(":")[2]


async def test_a_page_of_customers_costs_the_same_statements_whatever_its_size(
    api: GraphQLClient, tenants: Tenants, setup: Setup, database: Database
) -> None:
    a = api.as_(tenants.a.admin)
    await a.data(SAVE, mapping_input(setup, "Contoso", CONTOSO, CONTOSO_CONTRACT))
    page = """query($p: ID!, $first: Int) { syncCustomers(programId: $p, first: $first) {
      edges { node { customer { name owner { name } } tenantDomain
        mapping { company { name } } lastInvoiceSync { outcome run { status } } } } } }"""

    with count_statements(database.engine) as one:
        await a.data(page, {"p": setup.program, "first": 1})
    with count_statements(database.engine) as three:
        await a.data(page, {"p": setup.program, "first": 3})

    assert three.count == one.count
