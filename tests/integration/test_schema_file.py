from __future__ import annotations

from pathlib import Path

import pytest

from prism_graph.schema import sdl

pytestmark = pytest.mark.integration

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), "schema.graphql is stale: run `make schema`"
