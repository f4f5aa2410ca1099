"""Query pages and the opaque ``paging`` token of ``nextPageUrl``.

The token names the entity, the method of the first request, the last id served and a
hash of the body. So a GET of a POST query's next page gets the real API's 405, and a
next page asked with another body is refused (the simulator's assumption).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from . import errors as E
from .store import Record


def page(items: list[Record], request_count: int, next_url: str | None) -> dict[str, Any]:
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": request_count,
            "prevPageUrl": None,
            "nextPageUrl": next_url,
        },
    }


def body_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_token(entity: str, method: str, body: Any, after: int) -> str:
    raw = json.dumps({"e": entity, "m": method, "a": after, "h": body_hash(body)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or "a" not in data:
            raise ValueError
        return data
    except ValueError:
        raise E.failure(E.BAD_PAGING) from None
