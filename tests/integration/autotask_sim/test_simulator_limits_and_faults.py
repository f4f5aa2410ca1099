from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from autotask_client import (
    AutotaskClient,
    Credentials,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    Service,
)
from autotask_client import query as q
from autotask_sim import Fault, SimConfig, create_app, serve_in_thread
from autotask_sim.seed import RECURRING_CODE_ID
from prism_http.testing import sim_http_client

pytestmark = pytest.mark.integration


def service(name: str) -> Service:
    return Service(name=name, billing_code_id=RECURRING_CODE_ID, period_type=1, unit_price=5)


@pytest.fixture
def clock() -> list[float]:
    return [1_000_000.0]


@pytest.fixture
def limited(tmp_path, clock, delays):
    made: list[AutotaskClient] = []

    def make(**settings) -> tuple[AutotaskClient, object]:
        config = SimConfig(clock=lambda: clock[0], sleep=delays, **settings)
        app = create_app(config, tmp_path / f"limited{len(made)}.sqlite3")
        creds = Credentials(config.username, config.secret, config.integration_code)
        advance = RetryPolicy(sleep=lambda s: clock.__setitem__(0, clock[0] + s))
        client = AutotaskClient(creds, http=sim_http_client(app), retry=advance)
        made.append(client)
        return client, app.state.sim

    yield make
    for client in made:
        client._http.close()


# -- the hourly budget ---------------------------------------------------------------------------


def test_the_budget_is_answered_with_429_and_retry_after(limited, clock, api) -> None:
    client, _ = limited(hourly_budget=3, threshold_latency=False)
    for _ in range(3):
        client.companies.get(0)
    client.retry = RetryPolicy(max_retries=0)
    with pytest.raises(RateLimitError) as caught:
        client.companies.get(0)
    assert caught.value.status == 429
    assert caught.value.retry_after == 3600
    assert "Request threshold exceeded" in caught.value.errors[0]
    clock[0] += 3600
    assert client.threshold_information().current_timeframe_request_count == 1


def test_the_client_waits_out_a_short_retry_after(limited, clock) -> None:
    client, _ = limited(hourly_budget=2, budget_window_seconds=30, threshold_latency=False)
    client.companies.get(0)
    client.companies.get(0)
    start = clock[0]
    assert client.companies.get(0) is not None
    assert clock[0] - start == 30


def test_the_budget_can_answer_500_instead(limited) -> None:
    client, _ = limited(hourly_budget=1, rate_limit_status=500, threshold_latency=False)
    client.retry = RetryPolicy(max_retries=0)
    client.companies.get(0)
    with pytest.raises(RateLimitError) as caught:
        client.companies.get(0)
    assert caught.value.status == 500


def test_threshold_information_counts_requests_in_the_rolling_hour(limited, clock) -> None:
    client, sim = limited(threshold_latency=False)
    sim.use_budget(124)
    info = client.threshold_information()
    assert (info.external_request_threshold, info.request_threshold_timeframe) == (10000, 60)
    assert info.current_timeframe_request_count == 125
    clock[0] += 3601
    assert client.threshold_information().current_timeframe_request_count == 1


def test_latency_is_added_past_half_and_three_quarters_of_the_budget(limited, delays) -> None:
    client, sim = limited(hourly_budget=100)
    sim.use_budget(49)
    client.companies.get(0)  # 50th request: usage was 49%
    client.companies.get(0)  # usage 50%
    sim.use_budget(75)
    client.companies.get(0)
    assert delays == [0.5, 1.0]


def test_the_latency_model_delays_each_request_by_a_seeded_draw(limited, delays) -> None:
    client, _ = limited(threshold_latency=False, latency=(0.15, 0.4), latency_seed=7)
    for _ in range(5):
        client.companies.get(0)
    again, _ = limited(threshold_latency=False, latency=(0.15, 0.4), latency_seed=7)
    for _ in range(5):
        again.companies.get(0)

    assert len(delays) == 10 and all(0.15 <= d <= 0.4 for d in delays)
    assert delays[:5] == delays[5:]  # the same seed, the same delays
    assert len(set(delays[:5])) == 5


def test_no_latency_unless_asked_for(limited, delays) -> None:
    client, _ = limited(threshold_latency=False)
    client.companies.get(0)
    assert delays == []


# -- the thread limit ------------------------------------------------------------------------------


def test_three_concurrent_requests_per_endpoint_then_refusal(served, api) -> None:
    headers = api.headers
    served.sim.add_fault(Fault("latency", path="/Companies/", hang=True, times=None))
    url = served.url + "/ATServicesRest/V1.0/Companies/175"
    with httpx.Client(headers=headers, timeout=10) as http, ThreadPoolExecutor(3) as pool:
        held = [pool.submit(http.get, url) for _ in range(3)]
        assert served.sim.wait_in_flight("Companies", 3)
        refused = http.get(url)
        other = http.get(served.url + "/ATServicesRest/V1.0/Contracts/29683001")
        served.sim.faults.clear()
        answers = [f.result() for f in held]
    assert refused.status_code == 429
    assert "Thread limit exceeded" in refused.json()["errors"][0]
    assert other.status_code == 200
    assert [a.status_code for a in answers] == [200, 200, 200]


def test_the_thread_limit_is_configurable(tmp_path, api) -> None:
    config = SimConfig(per_endpoint_concurrency=1, threshold_latency=False)
    with serve_in_thread("127.0.0.1", 0, tmp_path / "t.sqlite3", config=config) as handle:
        handle.sim.add_fault(Fault("latency", path="/Companies/", hang=True, times=1))
        url = handle.url + "/ATServicesRest/V1.0/Companies/175"
        with httpx.Client(headers=api.headers, timeout=10) as http:
            worker = threading.Thread(target=http.get, args=(url,))
            worker.start()
            assert handle.sim.wait_in_flight("Companies", 1)
            assert http.get(url).status_code == 429
            handle.sim.faults.release()
            worker.join()


# -- faults ----------------------------------------------------------------------------------------


def test_a_5xx_on_a_read_is_retried(client, sim, sleeps) -> None:
    sim.add_fault(Fault("error", method="GET", path="/Companies/", status=503, times=2))
    assert client.companies.get(175) is not None
    assert len(sleeps) == 2


def test_a_5xx_on_a_create_is_not_retried(client, sim) -> None:
    sim.add_fault(Fault("error", method="POST", path="/Services$", status=503))
    with pytest.raises(ServerError):
        client.services.create(service("PC_retry"))
    assert client.services.count(q.eq("name", "PC_retry")) == 0


def test_latency_fault(client, sim, delays) -> None:
    sim.add_fault(Fault("latency", path="/Companies/", seconds=2.5))
    client.companies.get(175)
    assert delays == [2.5]


def test_a_response_lost_after_commit_leaves_the_record(client, sim) -> None:
    sim.add_fault(Fault("lost_response", method="POST", path="/Services$", status=502))
    with pytest.raises(ServerError):
        client.services.create(service("PC_lost"))
    posts = [r for r in sim.request_log if r[0] == "POST" and r[1].endswith("/Services")]
    assert len(posts) == 1  # not retried
    assert client.services.count(q.eq("name", "PC_lost")) == 1  # but it was written


def test_a_timeout_on_a_read_is_retried(served_client, served, sleeps) -> None:
    served.sim.add_fault(Fault("timeout", method="GET", path="/Companies/", times=1))
    served_client._http.timeout = httpx.Timeout(1.0)
    assert served_client.companies.get(175) is not None
    assert len(sleeps) == 1


def test_a_create_whose_answer_never_comes_is_not_repeated(served_client, served) -> None:
    served.sim.add_fault(Fault("lost_response", method="POST", path="/Services$", hang=True))
    served_client._http.timeout = httpx.Timeout(1.0)
    with pytest.raises(RequestTimeoutError):
        served_client.services.create(service("PC_hung"))
    served.sim.faults.release()
    served_client._http.timeout = httpx.Timeout(5.0)
    assert served_client.services.count(q.eq("name", "PC_hung")) == 1


# -- persistence, serving, back door -------------------------------------------------------------


def test_state_survives_a_restart(tmp_path, creds) -> None:
    path = tmp_path / "persist.sqlite3"
    config = SimConfig(threshold_latency=False)
    with serve_in_thread("127.0.0.1", 0, path, config=config) as first:
        c1 = AutotaskClient(creds, zone_probe_url=first.url + "/ATServicesRest/")
        sid = c1.services.create(service("PC_persist"))
        c1.close()
    with serve_in_thread("127.0.0.1", 0, path, config=config) as second:
        c2 = AutotaskClient(creds, zone_probe_url=second.url + "/ATServicesRest/")
        found = c2.services.get(sid)
        assert found is not None and found.name == "PC_persist"
        assert c2.services.create(service("PC_after")) > sid
        assert c2.companies.count() == 5  # not seeded twice
        c2.close()


def test_the_http_back_door(served, api) -> None:
    base = served.url + "/_sim"
    with httpx.Client(timeout=5) as http:
        assert (
            http.post(
                base + "/faults", json={"kind": "error", "path": "/Contracts/", "status": 502}
            ).status_code
            == 200
        )
        assert http.get(base + "/faults").json()[0]["status"] == 502
        assert http.delete(base + "/faults").json() == []
        assert http.post(base + "/usage", json={"count": 7}).json() == {"count": 7}
        assert http.post(base + "/user", json={"locked": True}).json() == {
            "locked": True,
            "active": True,
        }
        assert served.sim.user_locked
        http.post(base + "/user", json={"locked": False})
        assert http.post(base + "/user", json={"active": False}).json()["active"] is False
        assert not served.sim.user_active
        http.post(base + "/user", json={"active": True})
        assert http.post(
            base + "/permissions", json={"entity": "services", "verb": "create"}
        ).json() == {"denied": ["Services:create"]}
        edited = http.patch(base + "/records/contracts/29683001", json={"status": 0}).json()
        assert edited["status"] == 0
        adjusted = http.post(
            base + "/contracts/29683002/adjust",
            json={"serviceID": 29683401, "unitChange": 2, "effectiveDate": "2024-08-01"},
        )
        assert adjusted.status_code == 200
        assert http.delete(base + "/records/services/29683401").json() == {"deleted": True}
        assert http.get(base + "/records/services/29683401").status_code == 404
        assert len(http.get(base + "/records/companies").json()) == 5
        assert http.post(base + "/reset").json() == {"ok": True}
        assert http.get(base + "/records/services/29683401").status_code == 200
        assert http.get(base + "/requests").json() == []


def test_the_back_door_can_be_switched_off(tmp_path) -> None:
    app = create_app(SimConfig(enable_backdoor=False), tmp_path / "nb.sqlite3")
    with sim_http_client(app) as http:
        assert http.post("http://sim/_sim/reset").status_code == 404


def test_python_m_autotask_sim_serves_on_the_configured_port(monkeypatch, tmp_path) -> None:
    import autotask_sim.__main__ as entry

    seen = {}
    monkeypatch.setattr(entry.uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    monkeypatch.setenv("AUTOTASK_SIM_PORT", "18123")
    monkeypatch.setenv("AUTOTASK_SIM_STATE", str(tmp_path / "main.sqlite3"))
    entry.main()
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 18123)
    assert (tmp_path / "main.sqlite3").exists()
    monkeypatch.delenv("AUTOTASK_SIM_PORT")
    entry.main()
    assert seen["port"] == 8081
