from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from prism_graph.database import Database, RequestReader
from prism_graph.loaders import Loaders


@dataclass
class Context:
    """Everything a resolver may use, built fresh for each request (no module-level state)."""

    database: Database
    reader: RequestReader
    loaders: Loaders
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_request(cls, database: Database, request: Any = None, response: Any = None) -> Context:
        reader = database.reader()
        return cls(
            database=database,
            reader=reader,
            loaders=Loaders(reader),
            request=request,
            response=response,
        )


Info = StrawberryInfo[Context, None]
