"""Properties of ContractServiceUnits under any sequence of adjustments (S5, S10)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotask_sim import SimConfig, Simulator
from autotask_sim.dates import day_of
from autotask_sim.seed import RECURRING_CONTRACT_ID

pytestmark = pytest.mark.integration

START = date(2024, 1, 1)

adjustments = st.lists(
    st.tuples(st.integers(min_value=0, max_value=700), st.integers(min_value=-3, max_value=9)),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=adjustments, period=st.sampled_from([1, 2, 4]))
def test_rows_tile_time_and_carry_the_running_total(changes, period) -> None:
    sim = Simulator(SimConfig(threshold_latency=False), ":memory:")
    try:
        sid = sim.rules.create(
            "Services",
            {
                "name": "PC_prop",
                "billingCodeID": 29682801,
                "periodType": period,
                "unitPrice": 4,
                "unitCost": 2,
            },
        )
        applied: list[tuple[date, int]] = []
        for offset, change in changes:
            day = START + timedelta(days=offset)
            if sum(c for d, c in applied if d <= day) + change < 0 or any(
                sum(c for d, c in [*applied, (day, change)] if d <= later) < 0
                for later, _ in applied
            ):
                continue  # the simulator refuses these; covered elsewhere
            sim.adjust_units(RECURRING_CONTRACT_ID, sid, change, day.isoformat())
            applied.append((day, change))
        if not applied:
            return
        (cs,) = [c for c in sim.records("ContractServices") if c["serviceID"] == sid]
        rows = sorted(sim.units(cs["id"]), key=lambda r: r["startDate"])

        # No gaps, no overlaps, from the first adjustment's period to the contract's end.
        for before, after in itertools.pairwise(rows):
            assert day_of(before["endDate"]) + timedelta(days=1) == day_of(after["startDate"])
        assert day_of(rows[0]["startDate"]) <= min(d for d, _ in applied)
        assert day_of(rows[-1]["endDate"]) == date(2030, 12, 31)
        # Every row holds the units in force on its first day; a row starts at each change.
        starts = {day_of(r["startDate"]) for r in rows}
        for row in rows:
            first = day_of(row["startDate"])
            assert row["units"] == sum(c for d, c in applied if d <= first)
        assert {d for d, _ in applied} <= starts
    finally:
        sim.close()
