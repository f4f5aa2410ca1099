"""Keys, clientId, companyinfo, security roles, rate limiting and faults, client to simulator;
one test over real loopback HTTP through ``serve_in_thread``."""

from __future__ import annotations

import pytest

from connectwise_client import (
    AuthenticationError,
    CatalogItem,
    CompanyNotFoundError,
    ConnectWiseClient,
    Credentials,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from connectwise_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    Fault,
    SimConfig,
    serve_in_thread,
)
from connectwise_sim.seed import PRODUCT_TYPE_ID, SUBCATEGORY_ID

pytestmark = pytest.mark.integration


def test_the_codebase_comes_from_companyinfo(client) -> None:
    info = client.company_info()
    assert info.codebase == "v2025_1/" and info.is_cloud is True
    assert client.base_url() == "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
    assert client.test_connection()["version"] == "v2025.1"


def test_v4_6_release_is_served_as_well(make_client, http) -> None:
    fixed = ConnectWiseClient(
        Credentials(DEFAULT_COMPANY_ID, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY, DEFAULT_CLIENT_ID),
        codebase="v4_6_release",
        http=http,
    )
    assert fixed.companies.get(250).identifier == "Acme"


def test_an_unknown_company_id_is_named(make_client) -> None:
    with pytest.raises(CompanyNotFoundError):
        make_client(company_id="nosuchco").base_url()


@pytest.mark.parametrize(
    "changes",
    [{"private_key": "wrong"}, {"public_key": "Other"}, {"client_id": "not-registered"}],
)
def test_wrong_keys_or_an_unregistered_client_id_are_refused(client, make_client, changes) -> None:
    other = make_client(**changes)
    other._codebase = client.codebase()  # companyinfo needs no keys; skip to the API
    with pytest.raises(AuthenticationError) as caught:
        other.companies.get(250)
    assert caught.value.status == 401 and caught.value.code == "Unauthorized"


def test_an_api_member_without_the_right_gets_403(client, sim) -> None:
    sim.deny("catalog", "POST")
    with pytest.raises(PermissionDeniedError) as caught:
        client.catalog.create(CatalogItem(identifier="X", description="Y"))
    assert caught.value.code == "Security"
    assert client.catalog.get(1001).identifier == "MS-365-BP"  # reading is still allowed


def test_unknown_ids_and_urls_are_404(client) -> None:
    with pytest.raises(NotFoundError):
        client.catalog.get(999_999)
    with pytest.raises(NotFoundError):
        client.agreements.additions(999_999).list().__next__()
    with pytest.raises(NotFoundError):
        client.agreements.additions(302).get(5001)  # belongs to agreement 301
    with pytest.raises(NotFoundError):
        client.request("GET", "no/such/thing")


def test_a_429_is_waited_out_as_retry_after_says(client, sim_config, sim, clock) -> None:
    sim_config.requests_per_minute = 2
    client.base_url()
    client.companies.get(250)
    client.companies.get(251)
    assert client.companies.get(252).identifier == "Initech"  # third one waited a minute
    assert clock.slept == [60.0]
    assert [s for _, _, s in sim.request_log][-2:] == [429, 200]


def test_a_429_on_a_create_is_raised_not_repeated(client, sim_config, sim) -> None:
    sim_config.requests_per_minute = 1
    client.companies.get(250)
    with pytest.raises(RateLimitError) as caught:
        client.catalog.create(
            CatalogItem(
                identifier="PC_1",
                description="d",
                type={"id": PRODUCT_TYPE_ID},
                subcategory={"id": SUBCATEGORY_ID},
            )
        )
    assert caught.value.retry_after == 60.0
    assert not any(r["identifier"] == "PC_1" for r in sim.records("catalog"))


def test_server_faults_are_retried_for_reads(client, sim) -> None:
    sim.add_fault(Fault(503, method="GET", path="company/companies", times=2))
    assert client.companies.get(250).identifier == "Acme"
    sim.add_fault(Fault(500, method="GET", path="company/companies", times=10))
    with pytest.raises(ServerError):
        client.companies.get(250)


def test_a_fault_that_loses_the_answer_lets_the_request_land(client, sim) -> None:
    sim.add_fault(Fault(502, method="POST", path="procurement/catalog$", after_write=True))
    item = CatalogItem(
        identifier="PC_lost",
        description="d",
        type={"id": PRODUCT_TYPE_ID},
        subcategory={"id": SUBCATEGORY_ID},
    )

    with pytest.raises(ServerError):
        client.catalog.create(item)  # a create is never repeated

    assert [r["identifier"] for r in sim.records("catalog")].count("PC_lost") == 1
    assert client.catalog.create(item.model_copy(update={"identifier": "PC_next"})).id


def test_over_loopback_http() -> None:
    with serve_in_thread(config=SimConfig()) as handle:
        creds = Credentials(
            DEFAULT_COMPANY_ID, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY, DEFAULT_CLIENT_ID
        )
        with ConnectWiseClient(creds, site=handle.url, retry=RetryPolicy(max_retries=0)) as client:
            assert client.base_url() == f"{handle.url}/v2025_1/apis/3.0/"
            names = [c.identifier for c in client.companies.list()]
            assert names == ["PrismMSP", "Acme", "Globex", "Initech"]
