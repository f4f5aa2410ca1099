"""Every invoice sync test runs against both ways Autotask may end a ContractServiceUnits row
split by an adjustment: the day before its effective date, or on it, as Autotask's
documentation words it (which one real rows show is unconfirmed; docs/psa-sync.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autotask_sim import SimConfig, SimHandle, serve_in_thread


@pytest.fixture(params=["day_before", "at_next"])
def autotask(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    """A fresh Autotask simulator on a free loopback port, under one row-end convention."""
    handle = serve_in_thread(
        "127.0.0.1",
        0,
        tmp_path / "autotask.sqlite3",
        config=SimConfig(threshold_latency=False, unit_row_end=request.param),
    )
    yield handle
    handle.stop()
