"""What the client's conditions builder writes, the simulator's parser reads back as meant:
any text stays one value, and combinations keep their grouping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectwise_client.conditions import contains, eq, gt, in_, ne
from connectwise_sim.conditions import parse

pytestmark = pytest.mark.integration


def known(path: str) -> bool:
    return path.split("/")[0] in {"id", "identifier", "inactiveFlag", "type", "lastUpdated"}


@given(st.text(max_size=40), st.text(max_size=40))
def test_any_text_is_one_value(wanted: str, other: str) -> None:
    match = parse(eq("identifier", wanted).render(), known)
    assert match({"identifier": wanted})
    assert match({"identifier": other}) == (other.lower() == wanted.lower())


@given(st.text(min_size=1, max_size=20))
def test_contains_finds_the_text_inside(needle: str) -> None:
    match = parse(contains("identifier", needle).render(), known)
    assert match({"identifier": f"<{needle}>"})


@given(st.booleans(), st.booleans(), st.integers(0, 5))
def test_and_binds_as_grouped(a: bool, b: bool, n: int) -> None:
    record = {"id": n, "inactiveFlag": a, "type": {"id": 1 if b else 2}}
    built = (eq("inactiveFlag", True) | eq("type/id", 1)) & gt("id", 2)
    assert parse(built.render(), known)(record) == ((a or b) and n > 2)
    negated = ~built & ne("id", 4)
    assert parse(negated.render(), known)(record) == (not ((a or b) and n > 2) and n != 4)


def test_lists_and_dates() -> None:
    assert parse(in_("id", [1, 3]).render(), known)({"id": 3})
    since = gt("lastUpdated", datetime(2026, 1, 1, tzinfo=UTC)).render()
    assert parse(since, known)({"lastUpdated": "2026-01-02T00:00:00Z"})
    assert not parse(since, known)({"lastUpdated": "2025-12-31T23:59:59Z"})
