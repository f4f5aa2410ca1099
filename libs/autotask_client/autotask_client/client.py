"""The synchronous Autotask REST client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from prism_http.attempts import Outgoing, Vendor
from prism_http.attempts import RequestObserver as RequestObserver  # still importable here
from prism_http.client import ApiClient
from prism_http.errors import ApiError
from prism_http.retry import Idempotency, RetryPolicy

from .credentials import Credentials
from .errors import (
    AuthenticationError,
    InvalidResponseError,
    RequestTimeoutError,
    TransportError,
    UserDisabledError,
    error_from_response,
)
from .limits import NoLimiter, RequestLimiter
from .models import PageDetails, ThresholdInfo, VersionInfo, ZoneInfo, member
from .query import MAX_IN_VALUES, MAX_RECORDS, Query, gt, split_in_lists
from .resources import (
    BillingCodes,
    Companies,
    Contracts,
    ContractServiceAdjustments,
    ContractServices,
    ContractServiceUnits,
    Services,
)
from .zone import API_VERSION, DEFAULT_ZONE_PROBE_URL, ZoneCache, api_base, rest_root

log = logging.getLogger("autotask_client")

DEFAULT_TIMEOUT_SECONDS = 30.0
USER_AGENT = "prism-autotask-client/0.1"

_VENDOR = Vendor(
    "autotask",
    log,
    classify=error_from_response,
    timed_out=RequestTimeoutError,
    unanswered=TransportError,
    invalid=InvalidResponseError,
)


class Page:
    """One page of a query answer."""

    def __init__(self, items: list[dict[str, Any]], details: PageDetails) -> None:
        self.items = items
        self.details = details

    @property
    def next_page_url(self) -> str | None:
        return self.details.next_page_url


class AutotaskClient(ApiClient):
    """A typed client for Autotask's REST API v1.0.

    The zone is discovered from the username on first use unless ``base_url`` is given.
    Pass ``http`` to share a connection pool or to test against the simulator; the client
    closes only an ``httpx.Client`` it created.
    """

    _vendor = _VENDOR

    def __init__(
        self,
        credentials: Credentials,
        *,
        http: httpx.Client | None = None,
        base_url: str | None = None,
        zone_probe_url: str = DEFAULT_ZONE_PROBE_URL,
        zone_cache: ZoneCache | None = None,
        retry: RetryPolicy | None = None,
        limiter: RequestLimiter | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_in_values: int = MAX_IN_VALUES,
        observe: RequestObserver | None = None,
    ) -> None:
        super().__init__(
            http=http, timeout=timeout, retry=retry, observe=observe, scrub=credentials.scrub
        )
        self.credentials = credentials
        self._fixed_base = api_base(base_url) if base_url else None
        self.zone_probe_url = rest_root(zone_probe_url)
        self.zone_cache = zone_cache or ZoneCache()
        self.limiter: RequestLimiter = limiter or NoLimiter()
        self.max_in_values = max_in_values

        self.companies = Companies(self)
        self.contracts = Contracts(self)
        self.services = Services(self)
        self.contract_services = ContractServices(self)
        self.contract_service_adjustments = ContractServiceAdjustments(self)
        self.contract_service_units = ContractServiceUnits(self)
        self.billing_codes = BillingCodes(self)

    def __repr__(self) -> str:
        return f"AutotaskClient(username={self.credentials.username!r})"

    # -- zone and service information -------------------------------------------------------

    def zone(self, *, refresh: bool = False) -> ZoneInfo:
        """The user's zone, from the cache unless ``refresh``."""
        username = self.credentials.username
        if not refresh:
            cached = self.zone_cache.get(username)
            if cached is not None:
                return cached
        data = self._send(
            "GET",
            f"{self.zone_probe_url}{API_VERSION}/ZoneInformation",
            params={"user": username},
            authenticate=False,
            endpoint="ZoneInformation",
            rezone=False,
        )
        zone = ZoneInfo.model_validate(data)
        self.zone_cache.put(username, zone)
        return zone

    def base_url(self) -> str:
        """``https://webservicesN.autotask.net/ATServicesRest/V1.0/``."""
        if self._fixed_base is not None:
            return self._fixed_base
        return api_base(self.zone().url)

    def version_information(self) -> list[str]:
        """API versions the service offers (``/ATServicesRest/VersionInformation``)."""
        data = self._send(
            "GET",
            f"{self.zone_probe_url}VersionInformation",
            authenticate=False,
            endpoint="VersionInformation",
            rezone=False,
        )
        return [str(v) for v in member(data, "apiVersions", [])]

    def version(self) -> VersionInfo:
        return VersionInfo.model_validate(self.request("GET", "Version"))

    def threshold_information(self) -> ThresholdInfo:
        """The database's request budget and how much of the rolling hour is used."""
        return ThresholdInfo.model_validate(self.request("GET", "ThresholdInformation"))

    def test_connection(self) -> ThresholdInfo:
        """Check the credentials with one cheap authenticated call (rule S1's "test")."""
        return self.threshold_information()

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency: Idempotency = Idempotency.READ,
        endpoint: str | None = None,
    ) -> Any:
        """Send one API request; ``path`` is relative to the versioned base or absolute.

        ``idempotency`` says whether the request may be repeated on a transient failure;
        callers writing new records must pass :attr:`Idempotency.CREATE`.
        """
        return self._send(
            method,
            path,
            json=json,
            params=params,
            idempotency=idempotency,
            endpoint=endpoint or _endpoint_of(path),
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency: Idempotency = Idempotency.READ,
        endpoint: str,
        authenticate: bool = True,
        rezone: bool = True,
    ) -> Any:
        method = method.upper()
        rezoned = not rezone or self._fixed_base is not None

        def prepare() -> Outgoing:
            # The URL is made again for each attempt: a zone asked for again moves it.
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            if authenticate:
                headers |= self.credentials.headers(write=method != "GET")
            return Outgoing(method, self._url(path), headers, json=json, params=params)

        def slot() -> AbstractContextManager[object]:
            # Zone and version lookups are unauthenticated and outside the thread limit
            # (DOC ThreadLimiting.htm); they do not take a slot.
            return self.limiter.acquire(endpoint) if authenticate else nullcontext()

        def rezone_once(error: ApiError) -> bool:
            # The user's zone may have moved; ask again once before giving up. A 401 is
            # refused before anything runs, so even a create may repeat. Not when Autotask
            # named the user locked or inactive: the zone is right.
            nonlocal rezoned
            if rezoned or not isinstance(error, AuthenticationError):
                return False
            if isinstance(error, UserDisabledError):
                return False
            rezoned = True
            self.zone_cache.invalidate(self.credentials.username)
            return True

        answered = self._attempt(
            prepare,
            endpoint=endpoint,
            idempotency=idempotency,
            slot=slot,
            repeat_at_once=rezone_once,
        )
        return answered.json(self._vendor)

    # -- queries -------------------------------------------------------------------------------

    def query_pages(self, entity: str, q: Query) -> Iterator[Page]:
        """Every page of ``q``, following ``nextPageUrl``.

        A POST query's next page must be POSTed with the same body; a GET there is a 405
        (AUTOTASK.md §3). Over-long ``in`` lists are split into several queries first.
        """
        for part in split_in_lists(q, self.max_in_values):
            body = part.to_body()
            url: str | None = f"{entity}/query"
            while url:
                page = self._page(self.request("POST", url, json=body, endpoint=entity))
                yield page
                url = page.next_page_url

    def query_page(self, entity: str, q: Query, *, after_id: int | None = None) -> Page:
        """One page of ``q``: its first ``q.max_records`` (default and cap 500) records with an
        id above ``after_id``, in the API's ascending id order.

        For screens that page on their own (a picker's "more"): each page is one request that
        stands alone, resumed by the last id seen as Autotask's documentation recommends for
        walks that may stop, and ``page.next_page_url`` (``pageDetails``) says whether more
        records match. ``q`` may not need splitting (an over-long ``in`` list).
        """
        parts = list(split_in_lists(q, self.max_in_values))
        if len(parts) != 1:
            raise ValueError("a single page cannot span an in-list split into several queries")
        step = parts[0] if after_id is None else parts[0].where(gt("id", int(after_id)))
        return self._page(
            self.request("POST", f"{entity}/query", json=step.to_body(), endpoint=entity)
        )

    def query(self, entity: str, q: Query) -> Iterator[dict[str, Any]]:
        for page in self.query_pages(entity, q):
            yield from page.items

    def query_by_id_cursor(
        self, entity: str, q: Query, *, page_size: int = MAX_RECORDS
    ) -> Iterator[dict[str, Any]]:
        """Every record of ``q`` by repeating it with ``id > last id seen``.

        Autotask's documentation recommends this over page URLs for very large sets: each
        request stands alone, so an interrupted walk resumes from the last id. It relies on
        results coming back in ascending id order, as the API returns them.
        """
        last: int | None = None
        for part in split_in_lists(q, self.max_in_values):
            last = None
            while True:
                step = replace(part, max_records=page_size)
                if last is not None:
                    step = step.where(gt("id", last))
                page = self._page(
                    self.request("POST", f"{entity}/query", json=step.to_body(), endpoint=entity)
                )
                yield from page.items
                ids = [int(member(i, "id")) for i in page.items if member(i, "id") is not None]
                if not ids or (len(page.items) < page_size and not page.next_page_url):
                    break
                last = max(ids)

    def count(self, entity: str, q: Query) -> int:
        total = 0
        for part in split_in_lists(q, self.max_in_values):
            body = part.to_body()
            body.pop("IncludeFields", None)
            body.pop("MaxRecords", None)
            data = self.request("POST", f"{entity}/query/count", json=body, endpoint=entity)
            total += int(_require(data, "queryCount", "count"))
        return total

    def child_items(self, path: str, *, endpoint: str) -> Iterator[dict[str, Any]]:
        """Items of a child collection URL (``Contracts/{id}/ServiceUnits``), GET-paged."""
        url: str | None = path
        while url:
            data = self.request("GET", url, endpoint=endpoint)
            page = self._page(data)
            yield from page.items
            url = page.next_page_url

    @staticmethod
    def _page(data: Any) -> Page:
        items = _require(data, "items", "query")
        if not isinstance(items, list):
            raise InvalidResponseError("query answer without an items list")
        details = PageDetails.model_validate(member(data, "pageDetails") or {"count": len(items)})
        return Page(items, details)


def _require(data: Any, key: str, what: str) -> Any:
    missing = object()
    value = member(data, key, missing)
    if value is missing:
        raise InvalidResponseError(f"{what} answer without {key!r}")
    return value


_CHILD_ENDPOINTS = {
    "services": "ContractServices",
    "serviceadjustments": "ContractServiceAdjustments",
    "serviceunits": "ContractServiceUnits",
}


def _endpoint_of(path: str) -> str:
    """The entity a path addresses; Autotask's thread limit is per entity endpoint."""
    parts = [p for p in urlsplit(path).path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "v1.0" in lowered:
        parts = parts[lowered.index("v1.0") + 1 :]
    if not parts:
        return ""
    if len(parts) >= 3 and parts[1].isdigit():
        return _CHILD_ENDPOINTS.get(parts[2].lower(), parts[2])
    return parts[0]
