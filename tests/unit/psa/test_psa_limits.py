"""N3: the request budget and per-endpoint slots the syncer holds across workers."""

from __future__ import annotations

import pytest
from dramatiq.rate_limits.backends import StubBackend

from autotask_client import BudgetExhaustedError, RateLimitError
from prism_psa.limits import DramatiqLimiter, integration_key

pytestmark = pytest.mark.unit


def limiter(backend: StubBackend, **kw: object) -> DramatiqLimiter:
    return DramatiqLimiter(
        backend,
        database_key=lambda: "2600001",
        integration=integration_key("SIMPRISMINTEGRATIONCODE0001"),
        sleep=lambda _: None,
        **kw,  # type: ignore[arg-type]
    )


def test_the_budget_is_shared_by_every_limiter_of_the_database() -> None:
    backend = StubBackend()  # type: ignore[no-untyped-call]
    first, second = limiter(backend, budget=2), limiter(backend, budget=2)

    with first.acquire("Services"):
        pass
    with second.acquire("Companies"):
        pass

    with pytest.raises(BudgetExhaustedError), first.acquire("Services"):
        pass


def test_a_busy_endpoint_gives_up_after_waiting_for_a_slot() -> None:
    backend = StubBackend()  # type: ignore[no-untyped-call]
    a = limiter(backend, concurrency=1, slot_wait_seconds=0.1)

    with a.acquire("Services"):
        with pytest.raises(RateLimitError), a.acquire("Services"):
            pass
        with a.acquire("Companies"):  # another endpoint has its own slots
            pass


def test_keys_never_carry_the_integration_code() -> None:
    assert "SIMPRISM" not in integration_key("SIMPRISMINTEGRATIONCODE0001")


def test_without_redis_the_api_and_the_worker_of_one_process_count_one_budget() -> None:
    """`prism dev` builds a PsaConfig for the API and one for the worker: the requests the
    worker makes show in the API's budget (N3)."""
    from prism_psa.connections import PsaConfig
    from prism_psa.limits import budget_use

    api = PsaConfig.from_settings("k" * 32, None, None)
    worker = PsaConfig.from_settings("k" * 32, None, None)
    assert api.limits is not None and api.limits is worker.limits
    before = budget_use(api.limits, "2600001")
    with limiter(worker.limits).acquire("Services"):  # type: ignore[arg-type]
        pass
    after = budget_use(api.limits, "2600001")
    assert before is not None and after is not None and after.used == before.used + 1


def test_connectwise_requests_share_one_budget_per_company_and_a_spent_one_is_unavailable() -> None:
    """S13, N3: every worker's requests to one ConnectWise company count in one window; once
    it is spent the adapter reports ConnectWise unavailable (the run is retried later),
    without sending the request."""
    from connectwise_client import RateLimitError as ConnectWiseRateLimit
    from prism_psa.limits import CONNECTWISE_PREFIX, budget_use, connectwise_limiter
    from prism_psa.port import PsaUnavailable
    from tests.support.connectwise import connectwise

    backend = StubBackend()  # type: ignore[no-untyped-call]
    shared = connectwise_limiter(backend, company="acme", integration="key")
    other = connectwise_limiter(backend, company="globex", integration="key")
    shared.budget = other.budget = 3
    with connectwise() as cw:
        cw.psa.client.limiter = shared
        cw.psa.recurring_billing_codes()
        cw.psa.company(250)
        sent = len(cw.sim.request_log)
        use = budget_use(backend, "acme", budget=3, window_seconds=60, prefix=CONNECTWISE_PREFIX)
        assert use is not None and use.used == 2  # authenticated requests only (not companyinfo)
        cw.psa.company(251)
        with pytest.raises(PsaUnavailable):
            cw.psa.company(252)
        assert len(cw.sim.request_log) == sent + 1  # the refused request was never sent
        with other.acquire("company/companies"):  # another company's budget is its own
            pass
        with pytest.raises(ConnectWiseRateLimit), shared.acquire("company/companies"):
            pass
