"""The live pickers of Autotask companies and contracts as cursor connections.

Autotask's query cannot sort, so a picker pages in its order (ascending id), one request per
page: at most `first` (up to Autotask's 500) records with an id above the cursor's, and
`pageDetails.nextPageUrl` says whether more match. The cursor names the picker and its search
as well as the last id, so a cursor is refused by another list instead of silently skipping
entries of it. `totalCount` is Autotask's count of the same query, asked only when selected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry import relay

from prism_domain.errors import FieldError
from prism_graph.common.errors import BadRequest
from prism_graph.sync.common import PsaUnavailable
from prism_graph.sync.types import PsaChoice, PsaChoiceConnection, PsaChoiceEdge
from prism_psa.connections import Adapter
from prism_psa.port import PICKER_PAGE, PICKER_PAGE_MAX, ChoicePage

BAD_CURSOR = "The cursor is not valid for this list (or this search); start again without it."

Live = Callable[[Callable[[Adapter], Any]], Awaitable[Any]]


def _list_key(kind: str, criteria: dict[str, Any]) -> str:
    raw = json.dumps([kind, criteria], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def encode_cursor(kind: str, criteria: dict[str, Any], after_id: int) -> str:
    raw = json.dumps({"l": _list_key(kind, criteria), "id": after_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, criteria: dict[str, Any]) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after = data["id"] if isinstance(data, dict) else None
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ValueError("bad id")
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(BAD_CURSOR) from exc
    if data.get("l") != _list_key(kind, criteria):
        raise BadRequest(BAD_CURSOR)
    return after


def check_first(first: int | None) -> int:
    size = PICKER_PAGE if first is None else first
    if not 1 <= size <= PICKER_PAGE_MAX:
        raise BadRequest(
            f"`first` must be between 1 and {PICKER_PAGE_MAX}.", max_page_size=PICKER_PAGE_MAX
        )
    return size


def _unwrap(result: Any) -> Any:
    if isinstance(result, FieldError):
        raise PsaUnavailable(result.message)
    return result


def empty() -> PsaChoiceConnection:
    async def none() -> int:
        return 0

    return PsaChoiceConnection(
        edges=[],
        page_info=relay.PageInfo(
            has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
        ),
        count=none,
    )


async def picker(
    live: Live,
    *,
    kind: str,
    criteria: dict[str, Any],
    first: int | None,
    after: str | None,
    page: Callable[[Adapter, int, int | None], ChoicePage],
    count: Callable[[Adapter], int],
) -> PsaChoiceConnection:
    """One page of a picker: `page(psa, size, after_id)` reads it, `count(psa)` the total."""
    size = check_first(first)
    after_id = decode_cursor(after, kind, criteria) if after is not None else None
    found: ChoicePage = _unwrap(await live(lambda psa: page(psa, size, after_id)))
    cursors = [encode_cursor(kind, criteria, c.id) for c in found.choices]

    async def total() -> int:
        return int(_unwrap(await live(count)))

    return PsaChoiceConnection(
        edges=[
            PsaChoiceEdge(node=PsaChoice.of(c), cursor=cursor)
            for c, cursor in zip(found.choices, cursors, strict=True)
        ],
        page_info=relay.PageInfo(
            has_next_page=found.has_more,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        count=total,
    )
