from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autotask_sim import SimConfig, SimHandle, serve_in_thread


@pytest.fixture
def autotask(tmp_path: Path) -> Iterator[SimHandle]:
    """A fresh Autotask simulator on a free loopback port."""
    handle = serve_in_thread(
        "127.0.0.1", 0, tmp_path / "autotask.sqlite3", config=SimConfig(threshold_latency=False)
    )
    yield handle
    handle.stop()
