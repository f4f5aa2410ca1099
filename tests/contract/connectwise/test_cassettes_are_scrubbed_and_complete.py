"""No cassette may hold a credential; every one names the production host; each contract
test has its cassette, so CI replays everything and records nothing."""

from __future__ import annotations

import ast
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from .conftest import CASSETTES, PRODUCTION_HOST, secrets

pytestmark = pytest.mark.contract

CREDENTIAL_HEADERS = {"authorization", "clientid"}


def cassettes() -> list[Path]:
    return sorted(CASSETTES.glob("*.yaml"))


def test_there_are_cassettes() -> None:
    assert len(cassettes()) >= 5


@pytest.mark.parametrize("path", cassettes(), ids=lambda p: p.stem)
def test_no_cassette_contains_a_credential(path: Path) -> None:
    text = path.read_text()
    for secret in [*secrets(), "wrong-private-key"]:
        assert secret not in text, f"{path.name} leaks a credential"
    for interaction in yaml.safe_load(text)["interactions"]:
        for name, values in interaction["request"]["headers"].items():
            if name.lower() in CREDENTIAL_HEADERS:
                assert all(v.startswith("<") and v.endswith(">") for v in values), name


@pytest.mark.parametrize("path", cassettes(), ids=lambda p: p.stem)
def test_cassettes_name_the_production_host(path: Path) -> None:
    for interaction in yaml.safe_load(path.read_text())["interactions"]:
        assert urlsplit(interaction["request"]["uri"]).hostname == PRODUCTION_HOST


def test_every_contract_test_has_its_cassette() -> None:
    names: set[str] = set()
    for module in Path(__file__).parent.glob("test_*.py"):
        if module.name == Path(__file__).name:
            continue
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    missing = {n for n in names if not (CASSETTES / f"{n}.yaml").exists()}
    assert not missing, f"record them: CONNECTWISE_CASSETTE_RECORD=all ({sorted(missing)})"
