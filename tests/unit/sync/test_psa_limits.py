"""N3: the request budget and per-endpoint slots the syncer holds across workers."""

from __future__ import annotations

import pytest
from dramatiq.rate_limits.backends import StubBackend

from autotask_client import BudgetExhaustedError, RateLimitError
from prism_syncer.psa.limits import DramatiqLimiter, integration_key

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
