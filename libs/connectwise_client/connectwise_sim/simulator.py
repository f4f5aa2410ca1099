"""One simulated ConnectWise PSA company: its state, rules, limits and faults, the API's
request handling, and the back door through which tests act as people in the PSA's UI."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import conditions as C
from . import errors as E
from .config import SimConfig
from .entities import ADDITIONS, AGREEMENTS, CATALOG, ENTITIES, PATHS, EntityInfo
from .rules import Rules, month_bounds
from .seed import seed
from .store import Record, Store

API_ROOT = ("apis", "3.0")
ALWAYS_SERVED_CODEBASE = "v4_6_release"
REQUEST_LOG_SIZE = 10_000


@dataclass
class Fault:
    """Answer ``status`` (with ``body`` and ``headers``) instead of handling the next
    ``times`` requests whose method and path match (``path`` a regex). With ``lose_answer``
    the request is handled first (a create lands) and only its answer is replaced: a
    response lost on its way back, which a client cannot tell from a request that failed."""

    status: int
    method: str | None = None
    path: str | None = None
    times: int = 1
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    lose_answer: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, path, re.IGNORECASE) is not None


class Simulator:
    """State and behaviour of one simulated company.

    Methods not starting with ``_`` (other than :meth:`handle`) are the Python back door:
    they model people working in ConnectWise and switch faults, and pass through the
    API's rules only when they say so.
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig.from_env()
        self.store = Store()
        self.rules = Rules(self.store, self.config)
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._faults: list[Fault] = []
        self.denied: set[tuple[str, str]] = set()
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=REQUEST_LOG_SIZE)
        if self.config.seed:
            seed(self.store, self.rules)

    # -- back door ------------------------------------------------------------------------

    def reset(self) -> None:
        self.store.wipe()
        self.rules.billed_through.clear()
        self._faults.clear()
        self._sent.clear()
        self.denied.clear()
        self.request_log.clear()
        if self.config.seed:
            seed(self.store, self.rules)

    def records(self, entity: str) -> list[Record]:
        return sorted(self.store.all(entity), key=lambda r: int(r["id"]))

    def record(self, entity: str, id: int) -> Record | None:
        return self.store.get(entity, id)

    def edit(self, entity: str, id: int, **fields: Any) -> Record:
        """Change a record as a UI user would, bypassing the API's rules."""
        record = self.store.get(entity, id)
        if record is None:
            raise KeyError(f"{entity} {id} does not exist")
        record.update(fields)
        return self.store.put(entity, record)

    def invoice(self, agreement_id: int, period_start: date, period_end: date) -> list[Record]:
        """Run the agreement's invoice for a period, as the billing screen would."""
        return self.rules.invoice(agreement_id, period_start, period_end)

    def invoice_month(self, agreement_id: int, day: date) -> list[Record]:
        start, end = month_bounds(day)
        return self.invoice(agreement_id, start, end)

    def deny(self, collection: str, method: str, denied: bool = True) -> None:
        """Take a right away from the API member's security role (``"catalog"``, ``"POST"``)."""
        key = (collection, method.upper())
        if denied:
            self.denied.add(key)
        else:
            self.denied.discard(key)

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every fault not yet taken."""
        with self._lock:
            self._faults.clear()

    def close(self) -> None:
        """Nothing to release: the state lives in memory."""

    # -- request handling -----------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        method = request.method.upper()
        path = request.url.path
        try:
            response = await self._handle(request, method, path)
        except E.ApiFailure as failure:
            response = _answer(failure)
        self.request_log.append((method, path, response.status_code))
        return response

    async def _handle(self, request: Request, method: str, path: str) -> Response:
        segments = [s for s in path.split("/") if s]
        low = [s.lower() for s in segments]
        if low[:2] == ["login", "companyinfo"] and len(low) == 3:
            _only(method, "GET")
            return self._company_info(segments[2])
        codebases = {ALWAYS_SERVED_CODEBASE, self.config.codebase.strip("/").lower()}
        if len(low) < 4 or low[0] not in codebases or tuple(low[1:3]) != API_ROOT:
            raise E.failure(404, "NotFound", E.NO_RESOURCE)
        self._authenticate(request)
        self._rate_limit()
        fault = self._take_fault(method, path)
        if fault is not None and not fault.lose_answer:
            raise E.ApiFailure(fault.status, fault.body, fault.headers)
        body = await _json_body(request) if method in ("POST", "PATCH", "PUT") else None
        with self.store.locked():
            answer = self._dispatch(request, method, low[3:], body)
        if fault is not None:
            raise E.ApiFailure(fault.status, fault.body, fault.headers)
        return answer

    def _company_info(self, company: str) -> Response:
        if company.lower() != self.config.company_id.lower():
            # UNCONFIRMED: an unknown company id is taken to answer 200 with null.
            return JSONResponse(None)
        cfg = self.config
        return JSONResponse(
            {
                "CompanyName": cfg.company_id,
                "Codebase": cfg.codebase.strip("/") + "/",
                "VersionCode": cfg.version_code,
                "VersionNumber": "v4.6.99999",
                "CompanyID": cfg.company_id,
                "IsCloud": cfg.is_cloud,
                "SiteUrl": "api-na.myconnectwise.net",
            }
        )

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        user, _, secret = _basic(header).partition(":")
        company, _, public = user.partition("+")
        if (
            company.lower() != self.config.company_id.lower()
            or public != self.config.public_key
            or secret != self.config.private_key
        ):
            raise E.failure(401, "Unauthorized", E.UNAUTHORIZED)
        client_id = request.headers.get("clientid")
        if not client_id or client_id not in self.config.client_ids:
            raise E.failure(self.config.missing_client_id_status, "Unauthorized", E.NO_CLIENT_ID)

    def _rate_limit(self) -> None:
        limit = self.config.requests_per_minute
        if limit is None:
            return
        now = self.config.clock()
        window = self.config.rate_window_seconds
        with self._lock:
            while self._sent and self._sent[0] <= now - window:
                self._sent.popleft()
            if len(self._sent) >= limit:
                wait = max(1, int(self._sent[0] + window - now + 0.999))
                # Documented body and header (Developer Guide, Rate Limiting).
                raise E.ApiFailure(
                    429,
                    {"error": "ConnectWiseAPI", "message": E.TOO_MANY.format(seconds=wait)},
                    {"Retry-After": str(wait)},
                )
            self._sent.append(now)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _permit(self, collection: str, method: str) -> None:
        if (collection, method) in self.denied:
            raise E.failure(403, "Security", E.SECURITY)

    # -- routing --------------------------------------------------------------------------

    def _dispatch(self, request: Request, method: str, rest: list[str], body: Any) -> Response:
        if rest == ["system", "info"]:
            _only(method, "GET")
            return JSONResponse(
                {"version": self.config.version_code, "isCloud": self.config.is_cloud}
            )
        if len(rest) >= 4 and rest[:2] == ["finance", "agreements"] and rest[2].isdigit():
            if rest[3] != "additions":
                raise E.failure(404, "NotFound", E.NO_RESOURCE)
            agreement = self.store.get(AGREEMENTS, int(rest[2]))
            if agreement is None:
                raise E.not_found("Agreement", rest[2])
            return self._collection(request, method, ENTITIES[ADDITIONS], rest[4:], body, agreement)
        for size in (3, 2):
            entity = PATHS.get(tuple(rest[:size]))
            if entity is not None:
                return self._collection(request, method, ENTITIES[entity], rest[size:], body, None)
        raise E.failure(404, "NotFound", E.NO_RESOURCE)

    def _records_of(self, info: EntityInfo, agreement: Record | None) -> list[Record]:
        records = self.store.all(info.name)
        if agreement is not None:
            records = [r for r in records if r.get("agreementId") == agreement["id"]]
        return records

    def _collection(
        self,
        request: Request,
        method: str,
        info: EntityInfo,
        tail: list[str],
        body: Any,
        agreement: Record | None,
    ) -> Response:
        self._permit(info.name, method)
        if not tail:
            if method == "GET":
                return self._list(request, info, self._records_of(info, agreement))
            if method == "POST" and info.writable:
                created = self._create(info, body, agreement)
                return JSONResponse(created, status_code=201)
            raise E.failure(405, "MethodNotAllowed", E.METHOD.format(method=method))
        if tail == ["count"]:
            _only(method, "GET")
            params = _params(request)
            match = C.parse(params.get("conditions"), info.knows)
            count = sum(1 for r in self._records_of(info, agreement) if match(r))
            return JSONResponse({"count": count})
        if len(tail) == 1 and tail[0].isdigit():
            record = self.store.get(info.name, int(tail[0]))
            if record is None or (
                agreement is not None and record.get("agreementId") != agreement["id"]
            ):
                raise E.not_found(info.resource[0].upper() + info.resource[1:], tail[0])
            if method == "GET":
                fields = _fields(_params(request))
                return JSONResponse(C.project(record, fields) if fields else record)
            if not info.writable:
                raise E.failure(405, "MethodNotAllowed", E.METHOD.format(method=method))
            if method == "PATCH":
                return JSONResponse(self._patch(info, record, body, agreement))
            if method == "PUT":
                if not isinstance(body, dict):
                    raise E.bad_request(E.BAD_VALUE.format(field="body"))
                return JSONResponse(self._save(info, body, agreement, existing=record))
            if method == "DELETE":
                self.store.delete(info.name, int(record["id"]))
                return Response(status_code=204)
            raise E.failure(405, "MethodNotAllowed", E.METHOD.format(method=method))
        raise E.failure(404, "NotFound", E.NO_RESOURCE)

    def _create(self, info: EntityInfo, body: Any, agreement: Record | None) -> Record:
        if not isinstance(body, dict):
            raise E.bad_request(E.BAD_VALUE.format(field="body"))
        return self._save(info, body, agreement, existing=None)

    def _save(
        self,
        info: EntityInfo,
        body: dict[str, Any],
        agreement: Record | None,
        existing: Record | None,
    ) -> Record:
        if info.name == CATALOG:
            record = self.rules.catalog_item(body, existing=existing)
        else:
            assert agreement is not None
            record = self.rules.addition(agreement, body, existing=existing)
        return self.store.put(info.name, record)

    def _patch(
        self, info: EntityInfo, record: Record, body: Any, agreement: Record | None
    ) -> Record:
        """JSON-patch semantics over the record's top-level fields, then the create rules."""
        if not isinstance(body, list) or not body:
            raise E.bad_request(E.BAD_PATCH.format(why="the body must be an array of operations"))
        changed = dict(record)
        for op in body:
            if not isinstance(op, dict) or not isinstance(op.get("path"), str):
                raise E.bad_request(E.BAD_PATCH.format(why="each operation needs op and path"))
            kind = str(op.get("op", "")).lower()
            path = op["path"].strip("/")
            if "/" in path:
                raise E.bad_request(E.BAD_PATCH.format(why=f"path {path!r} is inside a field"))
            name = next((k for k in changed if k.lower() == path.lower()), None)
            if name is None and path.lower() not in info.fields:
                raise E.bad_request(E.BAD_PATCH.format(why=f"unknown path {path!r}"))
            name = name or path
            if kind in ("replace", "add"):
                if "value" not in op:
                    raise E.bad_request(E.BAD_PATCH.format(why=f"{kind} needs a value"))
                changed[name] = op["value"]
            elif kind == "remove":
                changed[name] = None
            else:
                raise E.bad_request(E.BAD_PATCH.format(why=f"unknown op {op.get('op')!r}"))
        return self._save(info, changed, agreement, existing=record)

    # -- lists ------------------------------------------------------------------------------

    def _list(self, request: Request, info: EntityInfo, records: list[Record]) -> Response:
        params = _params(request)
        size = _page_size(params, self.config)
        match = C.parse(params.get("conditions"), info.knows)
        found = [r for r in records if match(r)]
        fields = _fields(params)
        forward = request.headers.get("pagination-type", "").lower() == "forward-only"
        base = self._public_base(request)
        if forward:
            if params.get("orderby"):
                raise E.bad_request(E.ORDER_BY_FORWARD_ONLY)
            after = _int(params.get("pageid"), "pageId", default=0)
            found = sorted((r for r in found if int(r["id"]) > after), key=lambda r: int(r["id"]))
            served = found[:size]
            last = int(served[-1]["id"]) if served else after
            link = f'<{base}?{_query(params, pageid=last, page=None)}>; rel="next"'
        else:
            ordered = C.order(found, params.get("orderby"), info.knows)
            page = _int(params.get("page"), "page", default=1)
            if page < 1:
                raise E.bad_request(E.BAD_VALUE.format(field="page"))
            pages = max(1, -(-len(ordered) // size))
            served = ordered[(page - 1) * size : page * size]
            links = [f'<{base}?{_query(params, page=1)}>; rel="first"'] if page > 1 else []
            if page > 1:
                links.append(f'<{base}?{_query(params, page=page - 1)}>; rel="prev"')
            if page < pages:
                links.append(f'<{base}?{_query(params, page=page + 1)}>; rel="next"')
            links.append(f'<{base}?{_query(params, page=pages)}>; rel="last"')
            link = ", ".join(links)
        items = [C.project(r, fields) for r in served] if fields else served
        return JSONResponse(items, headers={"Link": link})

    def _public_base(self, request: Request) -> str:
        root = (self.config.public_url or f"{request.url.scheme}://{request.url.netloc}").rstrip(
            "/"
        )
        return root + request.url.path


def _basic(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return ""
    try:
        return base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _params(request: Request) -> dict[str, str]:
    """Query parameters by lower-cased name (``pagesize`` and ``pageSize`` alike)."""
    return {k.lower(): v for k, v in request.query_params.items()}


def _fields(params: dict[str, str]) -> list[str]:
    raw = params.get("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else []


def _int(value: str | None, name: str, *, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise E.bad_request(E.BAD_VALUE.format(field=name)) from None


def _page_size(params: dict[str, str], config: SimConfig) -> int:
    size = _int(params.get("pagesize"), "pageSize", default=config.default_page_size)
    if size < 1 or (size > config.max_page_size and config.oversize_page == "400"):
        raise E.bad_request(E.PAGE_SIZE.format(max=config.max_page_size))
    return min(size, config.max_page_size)


_CANONICAL = {"pagesize": "pageSize", "pageid": "pageId", "orderby": "orderBy"}


def _query(params: dict[str, str], **changes: int | None) -> str:
    merged: dict[str, Any] = dict(params)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return urlencode({_CANONICAL.get(k, k): v for k, v in merged.items()})


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise E.failure(405, "MethodNotAllowed", E.METHOD.format(method=method))


def _answer(failure: E.ApiFailure) -> Response:
    if failure.body is None:
        return Response(status_code=failure.status, headers=failure.headers)
    return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise E.bad_request("The request body is not valid JSON.") from None
