from __future__ import annotations

import httpx
import pytest

from autotask_client import (
    AuthenticationError,
    AutotaskClient,
    Credentials,
    InvalidIntegrationCodeError,
    PermissionDeniedError,
    UserInactiveError,
    UserLockedError,
    ZoneNotFoundError,
)
from autotask_sim import SimConfig, create_app
from prism_http.testing import sim_http_client

pytestmark = pytest.mark.integration


def test_zone_information_needs_no_credentials_and_names_its_own_address(http) -> None:
    r = http.get(
        "http://127.0.0.1:8081/ATServicesRest/V1.0/ZoneInformation",
        params={"user": "PRISM-API@sim.autotask.test"},
    )
    assert r.status_code == 200
    assert r.json() == {
        "zoneName": "Simulator",
        "url": "http://127.0.0.1:8081/ATServicesRest/",
        "webUrl": "http://127.0.0.1:8081/",
        "ci": 2600001,
    }


def test_paths_are_case_insensitive(http) -> None:
    r = http.get(
        "https://webservices2.autotask.net/atservicesrest/v1.0/zoneInformation",
        params={"user": "prism-api@sim.autotask.test"},
    )
    assert r.status_code == 200
    assert r.json()["url"] == "https://webservices2.autotask.net/ATServicesRest/"


def test_unknown_user_gets_the_documented_500(http) -> None:
    r = http.get(
        "https://webservices2.autotask.net/ATServicesRest/V1.0/ZoneInformation",
        params={"user": "nobody@example.test"},
    )
    assert r.status_code == 500
    assert r.json() == {"errors": ["Zone information could not be determined"]}


def test_version_information(http) -> None:
    r = http.get("https://webservices2.autotask.net/atservicesrest/versioninformation")
    assert r.json() == {"apiVersions": ["1.0"]}


def test_header_auth_accepts_the_configured_user(api) -> None:
    r = api("GET", "Companies/0", headers={"username": "Prism-API@sim.autotask.test"})
    assert r.status_code == 200
    assert r.json()["item"]["companyName"] == "Prism Demo MSP (own company)"


def test_wrong_secret_is_401_without_a_body(api) -> None:
    r = api("GET", "Companies/0", headers={"Secret": "wrong"})
    assert r.status_code == 401
    assert r.content == b""


def test_401_body_variant_is_configurable(tmp_path) -> None:
    app = create_app(SimConfig(unauthorized_body="errors"), tmp_path / "s.sqlite3")
    with sim_http_client(app) as http:
        r = http.get(
            "https://webservices2.autotask.net/ATServicesRest/V1.0/Companies/0",
            headers={"UserName": SimConfig().username, "Secret": "x", "ApiIntegrationCode": "y"},
        )
    assert r.status_code == 401 and r.json() == {"errors": ["Unauthorized"]}


def test_unknown_user_header_is_the_zone_500(api) -> None:
    r = api("GET", "Companies/0", headers={"UserName": "someone@else.test"})
    assert r.status_code == 500
    assert r.json() == {"errors": ["Zone information could not be determined"]}


def test_wrong_integration_code_is_the_documented_500(api) -> None:
    r = api("GET", "Companies/0", headers={"ApiIntegrationCode": "WRONG"})
    assert r.status_code == 500
    assert r.json() == {"errors": ["IntegrationCode is invalid."]}


def test_client_maps_each_auth_failure(http, creds: Credentials, sim) -> None:
    def client(**changes: str) -> AutotaskClient:
        fields = {
            "username": creds.username,
            "secret": creds.secret,
            "integration_code": creds.integration_code,
        }
        return AutotaskClient(Credentials(**(fields | changes)), http=http)

    with pytest.raises(AuthenticationError):
        client(secret="wrong").companies.get(0)
    with pytest.raises(InvalidIntegrationCodeError):
        client(integration_code="WRONG").companies.get(0)
    with pytest.raises(ZoneNotFoundError):
        client(username="nobody@example.test").companies.get(0)
    sim.lock_user()
    with pytest.raises(UserLockedError):
        client().companies.get(0)
    sim.lock_user(False)
    sim.activate_user(False)
    with pytest.raises(UserInactiveError):
        client().companies.get(0)


def test_a_missing_permission_is_a_500_the_client_calls_permission_denied(client, sim) -> None:
    sim.deny("Services", "create")
    with pytest.raises(PermissionDeniedError) as caught:
        client.services.create(
            {"name": "PC_x", "billingCodeID": 29682801, "periodType": 1, "unitPrice": 1}
        )
    assert caught.value.status == 500
    assert "does not have the adequate permissions" in caught.value.errors[0]


def test_credentials_come_from_the_environment_with_defaults() -> None:
    cfg = SimConfig.from_env(
        {
            "AUTOTASK_SIM_USERNAME": "u@x.test",
            "AUTOTASK_SIM_SECRET": "s",
            "AUTOTASK_SIM_INTEGRATION_CODE": "c",
        }
    )
    assert (cfg.username, cfg.secret, cfg.integration_code) == ("u@x.test", "s", "c")
    default = SimConfig.from_env({})
    assert default.username == "prism-api@sim.autotask.test"
    assert len(default.integration_code) == 27


def test_client_zone_discovery_against_the_simulator(client) -> None:
    zone = client.zone()
    assert zone.url == "https://webservices2.autotask.net/ATServicesRest/"
    assert client.base_url() == "https://webservices2.autotask.net/ATServicesRest/V1.0/"
    assert client.version().customer_type == "Simulator"


def test_unknown_paths_are_404(api) -> None:
    assert api("GET", "Tickets/1").status_code == 404
    assert isinstance(api("GET", "Tickets/1").json()["Message"], str)
    r = api("GET", "https://webservices2.autotask.net/elsewhere")
    assert r.status_code == 404


def test_the_client_closes_only_its_own_http_client(http, creds) -> None:
    with AutotaskClient(creds, http=http) as c:
        c.companies.get(0)
    assert not http.is_closed
    own = AutotaskClient(creds)
    own.close()
    assert own._http.is_closed
    assert isinstance(own._http, httpx.Client)


def test_repeated_wrong_secrets_lock_the_user_until_unlocked(tmp_path) -> None:
    config = SimConfig(lockout_after_failures=3)
    app = create_app(config, tmp_path / "lock.sqlite3")
    url = "https://webservices2.autotask.net/ATServicesRest/V1.0/Companies/0"
    good = {
        "UserName": config.username,
        "Secret": config.secret,
        "ApiIntegrationCode": config.integration_code,
    }
    with sim_http_client(app) as http:
        assert [http.get(url, headers=good | {"Secret": "bad"}).status_code for _ in range(3)] == [
            401
        ] * 3
        locked = http.get(url, headers=good)  # locked now, whatever the secret
        assert locked.status_code == 401
        assert locked.json() == {
            "errors": [
                "The user account has been locked.  Please see your Autotask Administrator "
                "for details."
            ]
        }
        app.state.sim.lock_user(False)
        assert http.get(url, headers=good).status_code == 200
    app.state.sim.close()


def test_a_locked_or_inactive_user_is_refused_with_its_state_whatever_the_secret(api, sim) -> None:
    sim.lock_user()
    with_right_secret = api("GET", "Companies/0")
    with_wrong_secret = api("GET", "Companies/0", headers={"Secret": "wrong"})
    sim.lock_user(False)
    sim.activate_user(False)
    inactive = api("GET", "Companies/0")
    sim.activate_user(True)

    for answer in (with_right_secret, with_wrong_secret):
        assert answer.status_code == 401
        assert "has been locked" in answer.json()["errors"][0]
    assert inactive.status_code == 401
    assert "inactive" in inactive.json()["errors"][0]
    assert api("GET", "Companies/0").status_code == 200
    # the zone is still found: a lock is about signing in, not about the username
    zone = api("GET", "ZoneInformation", params={"user": SimConfig().username})
    assert zone.status_code == 200


def test_a_locked_user_can_get_the_very_answer_a_wrong_secret_gets(tmp_path) -> None:
    config = SimConfig(disabled_user_answer="plain")
    app = create_app(config, tmp_path / "plain.sqlite3")
    url = "https://webservices2.autotask.net/ATServicesRest/V1.0/Companies/0"
    good = {
        "UserName": config.username,
        "Secret": config.secret,
        "ApiIntegrationCode": config.integration_code,
    }
    app.state.sim.lock_user()
    with sim_http_client(app) as http:
        locked = http.get(url, headers=good)
        wrong = http.get(url, headers=good | {"Secret": "bad"})
    app.state.sim.close()

    assert (locked.status_code, locked.content) == (wrong.status_code, wrong.content) == (401, b"")
    assert (
        SimConfig.from_env({"AUTOTASK_SIM_DISABLED_USER_ANSWER": "plain"}).disabled_user_answer
        == "plain"
    )
