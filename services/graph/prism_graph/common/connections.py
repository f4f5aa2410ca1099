"""What every connection of the schema shares beyond relay's edges and page info: the number
of items its filters match on all pages (`totalCount`), counted from the same filtered
statement the pages are cut from, in one COUNT that runs only when a client asks for it."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select

from prism_graph.common.pagination import count_all
from prism_graph.context import Info


@strawberry.type
class Counted:
    """Mixed into a connection type; build it with `connection(..., filtered=statement)`."""

    filtered: strawberry.Private[Select[Any]]

    @strawberry.field(
        description="How many items match the list's filters on all pages, not only this one."
    )
    async def total_count(self, info: Info) -> int:
        return await count_all(info.context.reader.scalar, self.filtered)
