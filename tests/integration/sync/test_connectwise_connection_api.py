"""A partner's ConnectWise connection through the API (S1, S13): tested live before it is
stored, refused with a specific error and nothing stored on bad input or refused keys, one per
partner beside its Autotask one, invisible to other partners, re-tested on demand; and a
program moved to ConnectWise needs that connection before anything is mapped or synced."""

from __future__ import annotations

from typing import Any

import pytest

from autotask_sim import SimHandle
from connectwise_sim import SimHandle as ConnectWiseHandle
from connectwise_sim.seed import AGREEMENT_ID, CUSTOMER_IDS, SUBCATEGORY_ID
from prism_domain.errors import DomainValidationError
from prism_domain.sync import ConnectWiseCredentials
from tests.integration.orders.support import make_catalogue, program_of
from tests.integration.sync.mapping_support import add_customer, connect
from tests.support.connectwise import api_credentials
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

SAVE = """mutation($input: ConnectWiseCredentialsInput!) {
  saveConnectWiseConnection(input: $input) {
    connection { kind username site status } errors { field code message } } }"""
TEST = """mutation($input: ConnectWiseCredentialsInput!) {
  testConnectWiseConnection(input: $input) { ok zoneUrl problem errors { field code message } } }"""
RETEST = """mutation($psa: Psa!) { retestPsaConnection(input: {psa: $psa}) {
  connection { kind status problem statusMessage } errors { code message } } }"""
LISTED = "{ psaConnections { kind status username site } }"


def fields(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in errors]


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("api-na.myconnectwise.net", "api-na.myconnectwise.net"),
        ("https://API-EU.myconnectwise.net/", "api-eu.myconnectwise.net"),
        ("http://127.0.0.1:8082", "http://127.0.0.1:8082"),
    ],
)
def test_a_site_is_kept_as_its_host(site: str, expected: str) -> None:
    parsed = ConnectWiseCredentials.parse(
        site=site, company_id="acme", public_key="p", private_key="k", allow_http_loopback=True
    )
    assert parsed.site == expected
    assert "k" not in repr(parsed).replace("acme", "")  # keys never in a repr


@pytest.mark.parametrize(
    ("site", "loopback"),
    [
        ("http://api-na.myconnectwise.net", True),  # plain http off this machine
        ("http://127.0.0.1:8082", False),  # a simulator, where the server does not allow it
        ("https://api-na.myconnectwise.net/v4_6_release/apis/3.0", True),  # a path
        ("https://", True),
        ("x" * 201, True),
    ],
)
def test_a_bad_site_is_refused(site: str, loopback: bool) -> None:
    with pytest.raises(DomainValidationError) as refused:
        ConnectWiseCredentials.parse(
            site=site,
            company_id="acme",
            public_key="p",
            private_key="k",
            allow_http_loopback=loopback,
        )
    assert [e.field for e in refused.value.errors] == ["site"]


async def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(
    api: GraphQLClient, tenants: Tenants, connectwise: ConnectWiseHandle
) -> None:
    msp = api.as_(tenants.a.admin)
    data = await msp.data(
        SAVE,
        {
            "input": api_credentials(
                "http://example.com", companyId=" ", publicKey="p" * 101, privateKey=""
            )
        },
    )
    payload = data["saveConnectWiseConnection"]
    assert payload["connection"] is None
    assert sorted(fields(payload["errors"])) == [
        ("input.companyId", "REQUIRED"),
        ("input.privateKey", "REQUIRED"),
        ("input.publicKey", "TOO_LONG"),
        ("input.site", "INVALID"),
    ]
    assert (await msp.data(LISTED))["psaConnections"] == []


async def test_the_test_says_which_part_connectwise_refused(
    api: GraphQLClient, tenants: Tenants, connectwise: ConnectWiseHandle
) -> None:
    msp = api.as_(tenants.a.admin)
    ok = (await msp.data(TEST, {"input": api_credentials(connectwise.url)}))[
        "testConnectWiseConnection"
    ]
    assert ok["ok"] is True and ok["zoneUrl"].startswith(connectwise.url) and ok["errors"] == []
    unknown = (
        await msp.data(TEST, {"input": api_credentials(connectwise.url, companyId="nobody")})
    )["testConnectWiseConnection"]
    assert (unknown["ok"], unknown["problem"]) == (False, "UNKNOWN_USER")
    assert fields(unknown["errors"]) == [("input.companyId", "PSA_UNKNOWN_USER")]
    wrong = (await msp.data(TEST, {"input": api_credentials(connectwise.url, publicKey="nope")}))[
        "testConnectWiseConnection"
    ]
    assert (wrong["ok"], wrong["problem"]) == (False, "WRONG_SECRET")
    assert "ConnectWise" in wrong["errors"][0]["message"]
    # A test stores nothing
    assert (await msp.data(LISTED))["psaConnections"] == []


async def test_both_psas_side_by_side_each_partner_its_own(
    api: GraphQLClient, tenants: Tenants, autotask: SimHandle, connectwise: ConnectWiseHandle
) -> None:
    await connect(api, tenants.a.admin)
    msp = api.as_(tenants.a.admin)
    saved = await msp.data(SAVE, {"input": api_credentials(connectwise.url)})
    assert saved["saveConnectWiseConnection"]["errors"] == []
    # Saving again replaces it: still one ConnectWise connection
    again = await msp.data(SAVE, {"input": api_credentials(connectwise.url)})
    assert again["saveConnectWiseConnection"]["errors"] == []
    listed = (await msp.data(LISTED))["psaConnections"]
    assert [(c["kind"], c["status"]) for c in listed] == [
        ("AUTOTASK", "OK"),
        ("CONNECTWISE", "OK"),
    ]
    one = await msp.data("{ psaConnection(psa: CONNECTWISE) { kind site } }")
    assert one["psaConnection"] == {"kind": "CONNECTWISE", "site": connectwise.url}
    # Another partner sees none of them
    other = api.as_(tenants.b.admin)
    assert (await other.data(LISTED))["psaConnections"] == []
    assert (await other.data("{ psaConnection(psa: CONNECTWISE) { kind } }"))[
        "psaConnection"
    ] is None
    # A member may look, not change
    member = api.as_(tenants.a.member)
    denied = await member.post(SAVE, {"input": api_credentials(connectwise.url)})
    assert denied["errors"] and denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_retest_records_that_the_keys_stopped_working(
    api: GraphQLClient, tenants: Tenants, connectwise: ConnectWiseHandle
) -> None:
    msp = api.as_(tenants.a.admin)
    await msp.data(SAVE, {"input": api_credentials(connectwise.url)})
    fine = (await msp.data(RETEST, {"psa": "CONNECTWISE"}))["retestPsaConnection"]
    assert fine["connection"]["status"] == "OK"
    # Someone revokes the member's keys in ConnectWise
    connectwise.sim.config.private_key = "rotated-in-connectwise"
    failing = (await msp.data(RETEST, {"psa": "CONNECTWISE"}))["retestPsaConnection"]
    assert failing["errors"] == []
    assert (failing["connection"]["status"], failing["connection"]["problem"]) == (
        "FAILING",
        "WRONG_SECRET",
    )
    assert "ConnectWise" in failing["connection"]["statusMessage"]
    # The Autotask connection is another one: there is none
    none = (await msp.data(RETEST, {"psa": "AUTOTASK"}))["retestPsaConnection"]
    assert [e["code"] for e in none["errors"]] == ["PSA_NOT_CONNECTED"]


async def test_a_program_on_connectwise_needs_the_connectwise_connection(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    autotask: SimHandle,
    connectwise: ConnectWiseHandle,
) -> None:
    await connect(api, tenants.a.admin)  # Autotask only
    msp = api.as_(tenants.a.admin)
    catalogue = await make_catalogue(client)
    program = await program_of(client, catalogue.monthly)
    settings = {
        "programId": program,
        "psa": "CONNECTWISE",
        "syncEnabled": True,
        "productSyncMode": "ALL",
        "billingCodeId": SUBCATEGORY_ID,
    }
    save_settings = (
        "mutation($input: ProgramSyncSettingsInput!) { saveProgramSyncSettings(input: $input) {"
        " settings { psa billingCode { id name } } errors { code message } } }"
    )
    refused = (await msp.data(save_settings, {"input": settings}))["saveProgramSyncSettings"]
    assert [e["code"] for e in refused["errors"]] == ["PSA_NOT_CONNECTED"]
    assert "ConnectWise" in refused["errors"][0]["message"]

    await msp.data(SAVE, {"input": api_credentials(connectwise.url)})
    saved = (await msp.data(save_settings, {"input": settings}))["saveProgramSyncSettings"]
    assert saved["errors"] == []
    assert saved["settings"]["psa"] == "CONNECTWISE"
    assert saved["settings"]["billingCode"]["id"] == SUBCATEGORY_ID
    # An Autotask billing code id is not a ConnectWise subcategory
    wrong = (await msp.data(save_settings, {"input": settings | {"billingCodeId": 999_999}}))[
        "saveProgramSyncSettings"
    ]
    assert [e["code"] for e in wrong["errors"]] == ["NOT_FOUND"]
    assert "subcategory" in wrong["errors"][0]["message"]

    # Mapping checks the agreement live in ConnectWise
    customer = await add_customer(
        api, tenants.a.admin, program, "Acme Dental", tenant="acmedental.onmicrosoft.com"
    )
    mapping = (
        "mutation($input: SaveCustomerMappingInput!) { saveCustomerMapping(input: $input) {"
        " mapping { company { id name } contract { id name } } errors { field code message } } }"
    )
    base = {"programId": program, "customerId": customer, "syncEnabled": True, "syncNow": False}
    other_company = (
        await msp.data(
            mapping,
            {"input": base | {"companyId": CUSTOMER_IDS[1], "contractId": AGREEMENT_ID}},
        )
    )["saveCustomerMapping"]
    assert fields(other_company["errors"]) == [("input.contractId", "INVALID")]
    mapped = (
        await msp.data(
            mapping, {"input": base | {"companyId": CUSTOMER_IDS[0], "contractId": AGREEMENT_ID}}
        )
    )["saveCustomerMapping"]
    assert mapped["errors"] == []
    assert mapped["mapping"]["contract"]["id"] == AGREEMENT_ID
