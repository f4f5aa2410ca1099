"""Zone discovery: which Autotask data centre serves an API user.

``GET {probe}/V1.0/ZoneInformation?user={username}`` needs no credentials and answers
``{"zoneName", "url", "webUrl", "ci"}``; ``url`` is the zone's REST root without version,
usually ending in ``/`` and historically with a doubled slash (AUTOTASK.md §1).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from .models import ZoneInfo

#: Any zone answers ZoneInformation; clients conventionally ask webservices2.
DEFAULT_ZONE_PROBE_URL = "https://webservices2.autotask.net/ATServicesRest/"
API_VERSION = "V1.0"
#: DJAT caches the zone for 12 hours; a 401 re-discovers it earlier.
ZONE_CACHE_SECONDS = 12 * 3600.0


def rest_root(url: str) -> str:
    """``https://host/ATServicesRest/`` from a zone url, fixing the ``//ATServicesRest`` quirk."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        raise ValueError(f"zone url without scheme: {url!r}")
    rest = re.sub(r"/{2,}", "/", rest)
    return f"{scheme}://{rest.rstrip('/')}/"


def api_base(url: str) -> str:
    """The versioned base every entity path hangs off: ``.../ATServicesRest/V1.0/``."""
    root = rest_root(url)
    if re.search(r"/v\d+\.\d+/$", root, re.IGNORECASE):
        return root
    return f"{root}{API_VERSION}/"


class ZoneCache:
    """Zones by username, shared by clients so a worker pool discovers each zone once."""

    def __init__(
        self, ttl: float = ZONE_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._zones: dict[str, tuple[ZoneInfo, float]] = {}

    def get(self, username: str) -> ZoneInfo | None:
        with self._lock:
            hit = self._zones.get(username.lower())
            if hit is None or hit[1] <= self._clock():
                return None
            return hit[0]

    def put(self, username: str, zone: ZoneInfo) -> None:
        with self._lock:
            self._zones[username.lower()] = (zone, self._clock() + self.ttl)

    def invalidate(self, username: str) -> None:
        with self._lock:
            self._zones.pop(username.lower(), None)
