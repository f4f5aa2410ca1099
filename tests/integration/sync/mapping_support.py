"""Given-steps shared by the customer mapping and invoice sync history tests (S4-S7): the API
wired to the Autotask simulator, partner A connected, a program with customers and tenants."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import dramatiq
import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, text

from autotask_sim import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME, SimHandle
from connectwise_sim.seed import SUBCATEGORY_ID
from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from tests.conftest import FAST_HASHING
from tests.support.backends import redis_requested
from tests.support.catalogue import create_program
from tests.support.connectwise import api_credentials
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import CONNECTWISE_SETTINGS, RECURRING_CODE_ID, TEST_SECRET_KEY, probe_url
from tests.support.sides import ConnectWiseSide, PsaSide

# The simulator's seed (autotask_sim.seed)
CONTOSO, FABRIKAM, NORTHWIND = 175, 176, 177
CONTOSO_CONTRACT = 29683001  # active Recurring Service, Contoso's
FABRIKAM_CONTRACT = 29683002  # active Recurring Service, Fabrikam's
FABRIKAM_CANCELLED = 29683003  # Recurring Service, inactive
NORTHWIND_EXPIRED = 29683004  # Recurring Service, ended in 2020
NORTHWIND_TM = 29683005  # active, Time & Materials

CREDENTIALS = {
    "username": DEFAULT_USERNAME,
    "secret": DEFAULT_SECRET,
    "integrationCode": DEFAULT_INTEGRATION_CODE,
}


@asynccontextmanager
async def psa_api(
    database_url: str, database: Database, broker: dramatiq.Broker, autotask: SimHandle | None
) -> AsyncIterator[GraphQLClient]:
    """The API wired to a PSA simulator: Autotask's zone probe on `autotask` (None when the
    test's PSA is ConnectWise, whose site the stored connection names)."""
    settings = GraphSettings(
        database_url=database_url,
        redis_url=redis_requested(),
        prism_env="test",
        autotask_zone_probe_url=probe_url(autotask) if autotask is not None else None,
        # The key the tests' syncer reads credentials with: either side may store them.
        secret_key=SecretStr(TEST_SECRET_KEY),
        rate_limit_namespace=f"prism-test-{uuid.uuid4().hex[:10]}",
        **FAST_HASHING,
        **CONNECTWISE_SETTINGS,
    )
    app = create_app(settings, database=database, broker=broker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        yield GraphQLClient(http)


@dataclass
class Setup:
    program: str  # global ids
    customers: dict[str, str]  # name -> id

    def __getitem__(self, name: str) -> str:
        return self.customers[name]


async def connect(api: GraphQLClient, token: str, side: PsaSide | None = None) -> None:
    """The partner admin connects the PSA: Autotask, or `side`'s (ConnectWise: its site)."""
    if isinstance(side, ConnectWiseSide):
        saved = await api.as_(token).data(
            "mutation($input: ConnectWiseCredentialsInput!) {"
            " saveConnectWiseConnection(input: $input) { errors { code message } } }",
            {"input": api_credentials(side.url)},
        )
        assert saved["saveConnectWiseConnection"]["errors"] == []
        return
    data = await api.as_(token).data(
        "mutation($input: PsaCredentialsInput!) { savePsaConnection(input: $input) {"
        " errors { code message } } }",
        {"input": CREDENTIALS},
    )
    assert data["savePsaConnection"]["errors"] == []


async def program_sync(
    api: GraphQLClient, token: str, program: str, *, enabled: bool, side: PsaSide | None = None
) -> None:
    """The program's sync settings, syncing to Autotask or to `side`'s PSA."""
    connectwise = isinstance(side, ConnectWiseSide)
    data = await api.as_(token).data(
        "mutation($input: ProgramSyncSettingsInput!) { saveProgramSyncSettings(input: $input) {"
        " errors { code message } } }",
        {
            "input": {
                "programId": program,
                "psa": "CONNECTWISE" if connectwise else "AUTOTASK",
                "syncEnabled": enabled,
                "productSyncMode": "ALL",
                "billingCodeId": SUBCATEGORY_ID if connectwise else RECURRING_CODE_ID,
            }
        },
    )
    assert data["saveProgramSyncSettings"]["errors"] == []


async def add_customer(
    api: GraphQLClient,
    token: str,
    program: str | None,
    name: str,
    *,
    domain: str | None = None,
    tenant: str | None = None,
) -> str:
    created = await api.as_(token).data(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {"
        " customer { id } errors { code message } } }",
        {"input": {"name": name, "domain": domain}},
    )
    assert created["createCustomer"]["errors"] == []
    customer: str = created["createCustomer"]["customer"]["id"]
    if program is not None and tenant is not None:
        await add_tenant(api, token, program, customer, tenant)
    return customer


async def add_tenant(
    api: GraphQLClient, token: str, program: str, customer: str, domain: str
) -> None:
    made = await api.as_(token).data(
        "mutation($input: CreateTenantInput!) { createTenant(input: $input) {"
        " errors { code message } } }",
        {"input": {"customerId": customer, "programId": program, "domain": domain}},
    )
    assert made["createTenant"]["errors"] == []


async def given_partner_a_with_customers(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    *,
    program_sync_on: bool = True,
    side: PsaSide | None = None,
) -> Setup:
    """Partner A connected to Autotask (or to `side`'s PSA), a program with sync on, and
    three customers with a tenant in it (and one without)."""
    program = await create_program(client)
    token = tenants.a.admin
    await connect(api, token, side)
    await program_sync(api, token, program, enabled=program_sync_on, side=side)
    tag = uuid.uuid4().hex[:6]
    customers = {
        "Contoso": await add_customer(
            api,
            token,
            program,
            "Contoso",
            domain="contoso.com",
            tenant=f"contoso{tag}.onmicrosoft.com",
        ),
        "Fabrikam": await add_customer(
            api, token, program, "Fabrikam", tenant=f"fabrikam{tag}.onmicrosoft.com"
        ),
        "Adatum": await add_customer(
            api, token, program, "Adatum", tenant=f"zz-adatum{tag}.onmicrosoft.com"
        ),
        "No tenant": await add_customer(api, token, None, "No tenant"),
    }
    return Setup(program, customers)


SAVE = """mutation($input: SaveCustomerMappingInput!) { saveCustomerMapping(input: $input) {
  mapping { programId customerId psa company { id name } contract { id name } syncEnabled }
  syncRequested errors { field code message } } }"""


def mapping_input(
    setup: Setup,
    customer: str,
    company: int,
    contract: int,
    *,
    sync: bool = True,
    now: bool = False,
) -> dict[str, Any]:
    return {
        "input": {
            "programId": setup.program,
            "customerId": setup[customer],
            "companyId": company,
            "contractId": contract,
            "syncEnabled": sync,
            "syncNow": now,
        }
    }


def invoice_sync_events(engine: Engine) -> list[dict[str, Any]]:
    import json

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT payload FROM outbox_events WHERE type = 'invoice_sync.requested'"
                " ORDER BY id"
            )
        ).all()
    return [p if isinstance(p, dict) else json.loads(p) for (p,) in rows]


def mappings_stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM sync_customer_mappings")).scalar_one())


async def map_to_contract(
    msp: GraphQLClient, program: str, customer: str, company: int, contract: int
) -> None:
    """A partner admin maps a customer to an Autotask company and contract, sync on."""
    mapped = await msp.data(
        "mutation($input: SaveCustomerMappingInput!) { saveCustomerMapping(input: $input) {"
        " errors { code message } } }",
        {
            "input": {
                "programId": program,
                "customerId": customer,
                "companyId": company,
                "contractId": contract,
                "syncEnabled": True,
                "syncNow": False,
            }
        },
    )
    assert mapped["saveCustomerMapping"]["errors"] == [], mapped
