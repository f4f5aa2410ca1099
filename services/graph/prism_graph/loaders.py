"""Per-request DataLoaders (STYLE habit 5), filtered by the caller's scope (T3).

Every relationship field loads through one, so a page of N rows costs one statement per
relationship, not N; and since each loader only ever returns rows the caller may see, an id
of another tenant loads as missing, on every path (node, nested edge, mutation input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_graph import access
from prism_graph.customers.models import Customer
from prism_graph.database import RequestReader
from prism_graph.identity.models import ApiClient, User
from prism_graph.organisations.models import Organisation

M = TypeVar("M")


def by_id_loader(
    reader: RequestReader,
    model: type[M],
    visible: Callable[[Scope | None], ColumnElement[bool]],
    scope: Scope | None,
) -> DataLoader[int, M | None]:
    id_column: Any = model.id  # type: ignore[attr-defined]

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = await reader.scalars(select(model).where(id_column.in_(set(ids)), visible(scope)))
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    """`<Thing>By<Key>` loaders, created fresh for every request."""

    def __init__(self, reader: RequestReader, scope: Scope | None) -> None:
        self.organisation_by_id = by_id_loader(
            reader, Organisation, access.visible_organisations, scope
        )
        self.customer_by_id = by_id_loader(reader, Customer, access.visible_customers, scope)
        self.user_by_id = by_id_loader(reader, User, access.visible_users, scope)
        self.api_client_by_id = by_id_loader(reader, ApiClient, access.visible_api_clients, scope)
