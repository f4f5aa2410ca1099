"""Every invoice sync test runs against both ways Autotask may end a ContractServiceUnits row
split by an adjustment: the day before its effective date, or on it, as Autotask's
documentation words it (which one real rows show is unconfirmed; docs/psa-sync.md). Tests
written against the world's PSA (`side`) run on ConnectWise too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autotask_sim import SimHandle
from connectwise_sim import SimConfig as ConnectWiseConfig
from connectwise_sim import serve_in_thread as serve_connectwise
from tests.integration.syncer.invoices.support import AutotaskSide, ConnectWiseSide, PsaSide
from tests.support.psa import serve_simulator


@pytest.fixture(params=["day_before", "at_next"])
def autotask(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SimHandle]:
    """A fresh Autotask simulator on a free loopback port, under one row-end convention."""
    with serve_simulator(tmp_path, unit_row_end=request.param) as handle:
        yield handle


@pytest.fixture(params=["autotask:day_before", "autotask:at_next", "connectwise"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PsaSide]:
    """The PSA the world's program syncs to: Autotask under each row-end convention, or
    ConnectWise; each a fresh simulator served on loopback."""
    if request.param == "connectwise":
        handle = serve_connectwise(config=ConnectWiseConfig())
        try:
            yield ConnectWiseSide(handle)
        finally:
            handle.stop()
        return
    row_end = request.param.split(":")[1]
    with serve_simulator(tmp_path, unit_row_end=row_end) as autotask:
        yield AutotaskSide(autotask)
