"""The metrics' own rules: bounded operation labels, scrape-time gauges that survive a failing
reader, and the worker's shared metrics directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest

from prism_platform import metrics
from prism_platform.metrics import OperationNames, StateGauge, watch, worker_environment
from tests.support.metrics import sample

pytestmark = pytest.mark.unit


def test_an_operation_is_labelled_by_its_name() -> None:
    names = OperationNames()

    assert names.label("CreateCustomer") == "CreateCustomer"
    assert names.label(None) == "anonymous"
    assert names.label("") == "anonymous"


def test_a_long_operation_name_is_cut_and_a_non_graphql_name_is_other() -> None:
    names = OperationNames()

    assert names.label("A" * 500) == "A" * 64
    assert names.label("drop table; --") == "other"
    assert names.label("x" * 10 + "\n") == "other"


def test_once_the_limit_of_names_is_reached_new_names_are_other_and_known_ones_stay() -> None:
    names = OperationNames(limit=3)
    for name in ("One", "Two", "Three"):
        assert names.label(name) == name

    assert names.label("Four") == "other"
    assert names.label("Two") == "Two"
    assert {names.label(f"Random{i}") for i in range(1000)} == {"other"}


def test_a_reader_that_fails_leaves_its_gauges_out_and_the_scrape_answers() -> None:
    up = StateGauge("prism_test_reader_up", "A gauge of a reader that works.")

    def broken() -> list[object]:
        raise ConnectionError("the database is away")

    stop_good = watch("test good", lambda: [up.family(3)])
    stop_bad = watch("test bad", broken)  # type: ignore[arg-type]
    try:
        text = generate_latest(metrics.REGISTRY).decode()
    finally:
        stop_good()
        stop_bad()

    assert sample(text, "prism_test_reader_up") == 3
    assert sample(generate_latest(metrics.REGISTRY).decode(), "prism_test_reader_up") is None


def test_labelled_state_gauges_show_every_given_series() -> None:
    gauge = StateGauge("prism_test_by_status", "By status.", ("status",))

    family = gauge.family({("PENDING",): 2, ("FAILED",): 0})

    assert {(s.labels["status"], s.value) for s in family.samples} == {
        ("PENDING", 2),
        ("FAILED", 0),
    }


def test_the_worker_gets_no_metrics_environment_without_a_port() -> None:
    assert worker_environment("127.0.0.1", 0) == {}


def test_the_worker_metrics_directory_is_emptied_of_a_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "worker-metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old values")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))

    env = worker_environment("0.0.0.0", 9100)

    assert env == {
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "dramatiq_prom_db": str(folder),
        "dramatiq_prom_host": "0.0.0.0",
        "dramatiq_prom_port": "9100",
    }
    assert list(folder.iterdir()) == []
