"""No secret or token is ever logged (N2, N4): a sign-in, an API client's token grant and a
whole invoice sync through the API, the outbox, the relay, the broker, the worker and the
Autotask simulator, every record of every thread captured at DEBUG through Prism's handler,
and none of the credentials, passwords, tokens or the server's key in any line."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME, SimHandle
from prism_graph.outbox.relay import Relay
from prism_graph.settings import GraphSettings
from prism_tables.sync.invoices import InvoiceSyncRun
from tests.conftest import drain
from tests.integration.identity.test_api_clients import new_client, token_request
from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    order_input,
    program_of,
    start_next_month,
    submit_order,
)
from tests.integration.sync.mapping_support import (
    CONTOSO,
    CONTOSO_CONTRACT,
    add_customer,
    connect,
    map_to_contract,
    program_sync,
)
from tests.support.clock import freeze, noon_utc
from tests.support.graphql import GraphQLClient
from tests.support.identity import FIXTURE_PASSWORD, Tenants, sign_in
from tests.support.logs import captured_logs
from tests.support.psa import month_of

pytestmark = pytest.mark.e2e


async def test_a_full_invoice_sync_and_sign_ins_log_no_secret(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    autotask: SimHandle,
    relay: Relay,
    broker: dramatiq.Broker,
    psa_worker: dramatiq.Worker,
    sync_engine: Engine,
    settings: GraphSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = {
        "Autotask secret": DEFAULT_SECRET,
        "Autotask integration code": DEFAULT_INTEGRATION_CODE,
        "Autotask user name": DEFAULT_USERNAME,
        "password": FIXTURE_PASSWORD,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        **{
            f"{org.name} {role} token": token
            for org in (tenants.a, tenants.distributor)
            for role, token in org.tokens.items()
        },
    }

    def deliver() -> None:
        while relay.publish_pending():
            pass
        drain(broker, psa_worker)

    with captured_logs() as logs:
        # A partner admin signs in with a password; an API client gets a token for its secret
        signed_in = await sign_in(api, f"admin@{tenants.a.domain}", FIXTURE_PASSWORD)
        assert signed_in["errors"] == []
        msp = api.as_(signed_in["accessToken"])
        secrets["signed-in access token"] = signed_in["accessToken"]
        created = await new_client(msp)
        secrets["API client secret"] = created["clientSecret"]
        granted = await token_request(
            api.http,
            {
                "grant_type": "client_credentials",
                "client_id": created["apiClient"]["clientId"],
                "client_secret": created["clientSecret"],
            },
        )
        assert granted.status_code == 200
        secrets["client credentials token"] = granted.json()["access_token"]
        await api.as_(granted.json()["access_token"]).data("{ customers(first: 1) { totalCount } }")

        # Partner A connects Autotask (tested live), syncs its products, orders, is billed
        catalogue = await make_catalogue(client)
        program = await program_of(client, catalogue.monthly)
        await connect(api, tenants.a.admin)
        await program_sync(api, tenants.a.admin, program, enabled=True)
        await msp.data(
            "mutation($p: ID!) { syncProducts(input: {programId: $p}) { errors { code } } }",
            {"p": program},
        )
        deliver()
        customer = await add_customer(
            api, tenants.a.admin, program, "Woodgrove", tenant="woodgrove.onmicrosoft.com"
        )
        start = start_next_month(10)
        order = await create_order(msp, customer, **order_input(catalogue, start))
        submitted = await submit_order(msp, order["order"]["id"], **SUBMIT_DETAILS)
        assert submitted["errors"] == []
        await map_to_contract(msp, program, customer, CONTOSO, CONTOSO_CONTRACT)
        month, end = month_of(start)
        freeze(monkeypatch, noon_utc(end + timedelta(days=1)))
        billed = await api.as_(tenants.distributor.admin).data(
            "mutation($m: String!) { runBilling(input: { month: $m }) { errors { message } } }",
            {"m": f"{month:%Y-%m}"},
        )
        assert billed["runBilling"]["errors"] == []
        deliver()

    with Session(sync_engine) as session:
        runs = session.scalars(select(InvoiceSyncRun)).all()
    assert [run.status for run in runs] == ["SUCCESS"], "the invoice sync did not run"
    lines = logs.lines()
    # The capture saw the work: the Autotask client's requests and the invoice sync run.
    assert any(line["logger"] == "autotask_client" for line in lines)
    assert any(line.get("run_id") == f"invoice:{runs[0].id}" for line in lines)

    leaked = {name for name, value in secrets.items() if value and value in logs.text}
    assert leaked == set(), f"logged: {sorted(leaked)}"
