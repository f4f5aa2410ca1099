"""The simulator's records in memory (`Store`): a query narrowed by an index finds exactly
what filtering every record finds, a rolled back write leaves nothing behind in memory, and
a record handed out is a copy."""

from __future__ import annotations

from typing import Any

import pytest

from autotask_sim import SimConfig, Simulator, filters
from autotask_sim.metadata import CONTRACT_SERVICES
from autotask_sim.seed import RECURRING_CONTRACT_ID

pytestmark = pytest.mark.integration


@pytest.fixture
def sim() -> Any:
    made = Simulator(SimConfig(threshold_latency=False), ":memory:")
    yield made
    made.close()


def add(sim: Any, contract_id: int, count: int, start: int = 9_000) -> None:
    with sim.store.transaction():
        for i in range(start, start + count):
            sim.store.put(
                CONTRACT_SERVICES,
                {"id": i, "contractID": contract_id, "serviceID": i % 7, "unitPrice": i % 3},
            )


@pytest.mark.parametrize(
    "body",
    [
        {"filter": [{"op": "eq", "field": "contractID", "value": 77}]},
        {"filter": [{"op": "eq", "field": "CONTRACTID", "value": 77.0}]},
        {"filter": [{"op": "eq", "field": "contractID", "value": "77"}]},  # text: not narrowed
        {"filter": [{"op": "in", "field": "contractID", "value": [77, "78", 79]}]},
        {
            "filter": [
                {"op": "in", "field": "contractID", "value": [77, 78]},
                {"op": "eq", "field": "serviceID", "value": 3},
            ]
        },
        {
            "filter": [
                {"op": "or", "items": [{"op": "eq", "field": "contractID", "value": 77}]},
                {"op": "gt", "field": "unitPrice", "value": 0},
            ]
        },
    ],
)
def test_a_narrowed_query_finds_what_filtering_every_record_finds(sim: Any, body: Any) -> None:
    add(sim, 77, 40)
    add(sim, 78, 40, start=9_100)
    add(sim, 79, 5, start=9_200)
    parsed = filters.parse(body, CONTRACT_SERVICES, max_or=500)

    narrowed = filters.select(sim._candidates(CONTRACT_SERVICES, parsed), parsed)
    scanned = filters.select(sim.store.all(CONTRACT_SERVICES), parsed)

    assert narrowed == scanned
    assert narrowed  # every body matches something


def test_a_rolled_back_write_is_forgotten_in_memory_too(sim: Any) -> None:
    add(sim, 77, 3)
    assert len(sim.store.where(CONTRACT_SERVICES, "contractID", [77])) == 3

    with pytest.raises(RuntimeError), sim.store.transaction():
        sim.store.put(CONTRACT_SERVICES, {"id": 9_500, "contractID": 77, "serviceID": 1})
        sim.store.delete(CONTRACT_SERVICES, 9_000)
        raise RuntimeError("refused")

    assert sim.store.get(CONTRACT_SERVICES, 9_500) is None
    assert sim.store.get(CONTRACT_SERVICES, 9_000) is not None
    assert [r["id"] for r in sim.store.where(CONTRACT_SERVICES, "contractID", [77])] == [
        9_000,
        9_001,
        9_002,
    ]


def test_a_moved_record_leaves_its_old_index_entry(sim: Any) -> None:
    add(sim, 77, 2)
    sim.store.where(CONTRACT_SERVICES, "contractID", [77])  # builds the index
    moved = sim.store.get(CONTRACT_SERVICES, 9_000)
    moved["contractID"] = RECURRING_CONTRACT_ID
    sim.store.put(CONTRACT_SERVICES, moved)

    assert [r["id"] for r in sim.store.where(CONTRACT_SERVICES, "contractID", [77])] == [9_001]
    assert 9_000 in [
        r["id"] for r in sim.store.where(CONTRACT_SERVICES, "contractID", [RECURRING_CONTRACT_ID])
    ]


def test_a_record_handed_out_is_a_copy(sim: Any) -> None:
    add(sim, 77, 1)
    got = sim.store.get(CONTRACT_SERVICES, 9_000)
    got["contractID"] = 1
    sim.store.where(CONTRACT_SERVICES, "contractID", [77])[0]["serviceID"] = 99

    assert sim.store.get(CONTRACT_SERVICES, 9_000)["contractID"] == 77
    assert sim.store.all(CONTRACT_SERVICES)[-1]["serviceID"] == 9_000 % 7
