"""Resolving relay nodes through the request's scoped DataLoaders (one rule for every type)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from prism_graph.common.ids import decode_id

N = TypeVar("N")


async def load_nodes(
    loader: DataLoader[int, Any], node_ids: Iterable[str], to_node: Callable[[Any], N]
) -> list[N | None]:
    """The nodes of `node_ids`, None where the caller's scope finds no row (T3)."""
    rows = await loader.load_many([decode_id(i) for i in node_ids])
    return [to_node(r) if r else None for r in rows]
