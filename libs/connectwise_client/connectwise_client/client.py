"""The synchronous ConnectWise PSA REST client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import httpx

from prism_http.attempts import Outgoing, Vendor, success_json
from prism_http.attempts import RequestObserver as RequestObserver  # still importable here
from prism_http.client import ApiClient
from prism_http.retry import Idempotency, RetryPolicy

from .conditions import Condition
from .credentials import Credentials
from .errors import (
    CompanyNotFoundError,
    InvalidResponseError,
    NotFoundError,
    RequestTimeoutError,
    TransportError,
    error_from_response,
)
from .models import CompanyInfo
from .resources import (
    Agreements,
    AgreementTypes,
    Catalog,
    Companies,
    ProductSubcategories,
    ProductTypes,
)

log = logging.getLogger("connectwise_client")

DEFAULT_SITE = "api-na.myconnectwise.net"
#: The codebase that works everywhere: on premise it is the only one, and the cloud
#: redirects it to the company's release (docs/connectwise.md §1).
DEFAULT_CODEBASE = "v4_6_release/"
API_PATH = "apis/3.0/"
DEFAULT_TIMEOUT_SECONDS = 30.0
USER_AGENT = "prism-connectwise-client/0.1"
#: Documented: 25 by default, 1,000 at most.
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
#: Documented recommendation for a request URL; /search takes longer conditions in a body.
MAX_URL_LENGTH = 2000

_VENDOR = Vendor(
    "connectwise",
    log,
    classify=error_from_response,
    timed_out=RequestTimeoutError,
    unanswered=TransportError,
    invalid=InvalidResponseError,
)


class Page:
    """One page of a list answer, and the ``Link`` header's next page if any."""

    def __init__(self, items: list[dict[str, Any]], next_url: str | None) -> None:
        self.items = items
        self.next_url = next_url


def _site_root(site: str) -> str:
    """``https://host`` from a host name or a URL (tests give ``http://127.0.0.1:port``)."""
    if "://" not in site:
        site = f"https://{site}"
    parts = urlsplit(site)
    return f"{parts.scheme}://{parts.netloc}"


class RequestLimiter(Protocol):
    def acquire(self, endpoint: str) -> AbstractContextManager[object]:
        """A slot for one request to ``endpoint``; block, or raise
        :class:`~connectwise_client.errors.RateLimitError` to give up."""
        ...


class ConnectWiseClient(ApiClient):
    """A typed client for ConnectWise PSA's REST API (``apis/3.0``).

    ``site`` is the API host (``api-na.myconnectwise.net``; cloud hosts take the ``api-``
    prefix). The codebase is asked of ``/login/companyinfo/{companyId}`` on first use unless
    ``codebase`` is given. Pass ``http`` to share a connection pool or to test against the
    simulator; the client closes only an ``httpx.Client`` it created.
    """

    _vendor = _VENDOR

    def __init__(
        self,
        credentials: Credentials,
        *,
        site: str = DEFAULT_SITE,
        codebase: str | None = None,
        api_version: str | None = None,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        observe: RequestObserver | None = None,
        limiter: RequestLimiter | None = None,
    ) -> None:
        super().__init__(
            http=http, timeout=timeout, retry=retry, observe=observe, scrub=credentials.scrub
        )
        self.credentials = credentials
        #: Asked for a slot around each authenticated attempt (the caller's view of the
        #: request rate every worker shares); None: the client does not limit itself.
        self.limiter = limiter
        self.site_root = _site_root(site)
        self._codebase = _normal_codebase(codebase) if codebase else None
        self.api_version = api_version

        self.companies = Companies(self)
        self.agreements = Agreements(self)
        self.agreement_types = AgreementTypes(self)
        self.catalog = Catalog(self)
        self.product_types = ProductTypes(self)
        self.product_subcategories = ProductSubcategories(self)

    def __repr__(self) -> str:
        return f"ConnectWiseClient(company_id={self.credentials.company_id!r})"

    # -- where the API lives ----------------------------------------------------------------

    def company_info(self) -> CompanyInfo:
        """The company's codebase and version (unauthenticated)."""
        company = self.credentials.company_id
        try:
            response = self._send(
                "GET",
                f"{self.site_root}/login/companyinfo/{quote(company, safe='')}",
                endpoint="companyinfo",
                authenticate=False,
            )
        except NotFoundError as exc:
            raise CompanyNotFoundError(
                f"ConnectWise does not know company id {company!r}", status=404
            ) from exc
        data = _decode(response, "GET", "/login/companyinfo")
        # An unknown company id answers 200 with an empty body or null (UNCONFIRMED).
        if not isinstance(data, dict) or not data.get("Codebase"):
            raise CompanyNotFoundError(f"ConnectWise does not know company id {company!r}")
        return CompanyInfo.model_validate(data)

    def codebase(self) -> str:
        if self._codebase is None:
            self._codebase = _normal_codebase(self.company_info().codebase)
        return self._codebase

    def base_url(self) -> str:
        """``https://api-na.myconnectwise.net/v4_6_release/apis/3.0/``."""
        return f"{self.site_root}/{self.codebase()}{API_PATH}"

    def test_connection(self) -> dict[str, Any]:
        """Check the keys and clientId with one cheap authenticated call."""
        data = self.request("GET", "system/info")
        if not isinstance(data, dict):
            raise InvalidResponseError("system/info answer is not an object")
        return data

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency: Idempotency | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one API request and return its decoded body.

        ``path`` is relative to ``apis/3.0/`` or absolute. Without ``idempotency`` a POST is
        taken for a create (never repeated) and every other method as safe to repeat.
        """
        response = self.send(
            method, path, json=json, params=params, idempotency=idempotency, headers=headers
        )
        return _decode(response, method.upper(), urlsplit(response.request.url.path).path)

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency: Idempotency | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Like :meth:`request`, returning the response (for its ``Link`` header)."""
        method = method.upper()
        if idempotency is None:
            idempotency = Idempotency.CREATE if method == "POST" else Idempotency.READ
        return self._send(
            method,
            self._url(path),
            json=json,
            params=params,
            idempotency=idempotency,
            endpoint=_endpoint_of(path),
            extra_headers=headers,
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency: Idempotency = Idempotency.READ,
        endpoint: str,
        authenticate: bool = True,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        def prepare() -> Outgoing:
            headers = {"Accept": self._accept(), "User-Agent": USER_AGENT}
            if authenticate:
                headers |= self.credentials.headers()
            if extra_headers:
                headers |= extra_headers
            return Outgoing(method, url, headers, json=json, params=params)

        limiter = self.limiter if authenticate else None

        def slot() -> AbstractContextManager[object]:
            return limiter.acquire(endpoint) if limiter is not None else nullcontext()

        return self._attempt(
            prepare, endpoint=endpoint, idempotency=idempotency, slot=slot
        ).response

    def _accept(self) -> str:
        if self.api_version:
            return f"application/vnd.connectwise.com+json; version={self.api_version}"
        return "application/json"

    # -- lists ---------------------------------------------------------------------------------

    def list_page(
        self,
        path: str,
        *,
        conditions: Condition | str | None = None,
        fields: list[str] | None = None,
        order_by: str | None = None,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """One navigable page (``page``, ``pageSize``); ``next_url`` from ``Link: rel=next``."""
        params = _list_params(conditions, fields, page_size)
        params["page"] = page
        if order_by:
            params["orderBy"] = order_by
        return self._page(self.send("GET", path, params=params))

    def iterate(
        self,
        path: str,
        *,
        conditions: Condition | str | None = None,
        fields: list[str] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        after_id: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record, by forward-only paging: ordered by id, each page asking for ids
        above the last one seen (``pageId``), so a walk that stops can resume from an id."""
        params = _list_params(conditions, fields, page_size)
        if after_id is not None:
            params["pageId"] = after_id
        headers = {"pagination-type": "forward-only"}
        url: str | None = path
        first = True
        while url is not None:
            response = self.send("GET", url, params=params if first else None, headers=headers)
            first = False
            page = self._page(response)
            yield from page.items
            # The Link header always names a next pageId; a short page is the last one.
            if len(page.items) < page_size:
                break
            url = page.next_url

    def count(self, path: str, *, conditions: Condition | str | None = None) -> int:
        params: dict[str, Any] = {}
        if conditions is not None:
            params["conditions"] = str(conditions)
        data = self.request("GET", f"{path.rstrip('/')}/count", params=params)
        if not isinstance(data, dict) or not isinstance(data.get("count"), int):
            raise InvalidResponseError("count answer without a count")
        return int(data["count"])

    @staticmethod
    def _page(response: httpx.Response) -> Page:
        data = _decode(response, "GET", response.request.url.path)
        if not isinstance(data, list):
            raise InvalidResponseError("list answer is not a JSON array")
        nxt = response.links.get("next", {}).get("url")
        return Page(data, nxt)


def _list_params(
    conditions: Condition | str | None, fields: list[str] | None, page_size: int
) -> dict[str, Any]:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    params: dict[str, Any] = {"pageSize": page_size}
    if conditions is not None:
        params["conditions"] = str(conditions)
    if fields:
        params["fields"] = ",".join(fields)
    return params


def _normal_codebase(codebase: str) -> str:
    return codebase.strip("/") + "/"


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    return success_json(response, InvalidResponseError, method=method, path=path)


def _endpoint_of(path: str) -> str:
    """The collection a path addresses, ids dropped: ``finance/agreements/additions``."""
    parts = [p for p in urlsplit(path).path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "3.0" in lowered:
        parts = parts[lowered.index("3.0") + 1 :]
    return "/".join(p for p in parts if not p.isdigit() and p.lower() != "count")
