"""Every invoice sync test runs against both ways Autotask may end a ContractServiceUnits row
split by an adjustment: the day before its effective date, or on it, as Autotask's
documentation words it (which one real rows show is unconfirmed; docs/psa-sync.md). Tests
written against the world's PSA (`side`, tests/conftest.py) run on ConnectWise too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autotask_sim import SimHandle
from tests.support.psa import serve_simulator


@pytest.fixture(params=["day_before", "at_next"])
def autotask(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    """A fresh Autotask simulator on a free loopback port, under one row-end convention."""
    with serve_simulator(tmp_path, unit_row_end=request.param) as handle:
        yield handle
