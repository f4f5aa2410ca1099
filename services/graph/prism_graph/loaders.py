"""Per-request DataLoaders (STYLE habit 5): every relationship field loads through one, so a
page of N rows costs one statement per relationship, not N."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from prism_graph.customers.models import Customer
from prism_graph.database import RequestReader
from prism_graph.organisations.models import Organisation

M = TypeVar("M")


def by_id_loader(reader: RequestReader, model: type[M]) -> DataLoader[int, M | None]:
    id_column: Any = model.id  # type: ignore[attr-defined]

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = await reader.scalars(select(model).where(id_column.in_(set(ids))))
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    """`<Thing>By<Key>` loaders, created fresh for every request."""

    def __init__(self, reader: RequestReader) -> None:
        self.organisation_by_id = by_id_loader(reader, Organisation)
        self.customer_by_id = by_id_loader(reader, Customer)
