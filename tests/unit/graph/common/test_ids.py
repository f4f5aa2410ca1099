"""Global ids decode to database keys by one rule (prism_graph.common.ids)."""

from __future__ import annotations

import random

import pytest
from strawberry.relay import GlobalID

from prism_graph.common.ids import node_pk

pytestmark = pytest.mark.unit


def test_an_id_of_the_named_type_gives_its_key() -> None:
    pk = random.randint(1, 10**12)

    assert node_pk(GlobalID("Product", str(pk)), "Product") == pk


@pytest.mark.parametrize(
    "value",
    [
        None,
        GlobalID("Program", "7"),
        GlobalID("Product", "-7"),
        GlobalID("Product", "seven"),
        GlobalID("Product", ""),
        GlobalID("Product", "1" * 19),
    ],
)
def test_any_other_id_matches_nothing(value: GlobalID | None) -> None:
    assert node_pk(value, "Product") == -1
