"""The simulator's HTTP surface: ``/ATServicesRest/...`` as Autotask serves it, plus the
test-only back door under ``/_sim/``."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import errors as E
from . import filters
from .config import DEFAULT_STATE_PATH, SimConfig
from .faults import Fault, Faults
from .limits import Budget, ThreadLimit
from .metadata import (
    ADJUSTMENTS,
    BY_LOWER,
    CAPABILITIES,
    COMPANIES,
    CONTRACT_SERVICES,
    CONTRACTS,
    SERVICES,
    UNITS,
    entity_info,
    fields_of,
    udf_info,
)
from .rules import Rules
from .seed import seed
from .store import Record, Store

log = logging.getLogger("autotask_sim")

REQUEST_LOG_SIZE = 10_000
_CHILDREN = {
    "services": CONTRACT_SERVICES,
    "serviceadjustments": ADJUSTMENTS,
    "serviceunits": UNITS,
}
_TOP_LEVEL_WRITES = {COMPANIES, CONTRACTS, SERVICES, ADJUSTMENTS}


class Simulator:
    """State, rules, limits and faults of one simulated Autotask database.

    The methods not starting with ``_`` are the Python back door: they model people
    working in the Autotask UI and switch faults, and never pass through the API's rules
    unless they say so.
    """

    def __init__(self, config: SimConfig | None = None, state_path: str | Path | None = None):
        self.config = config or SimConfig.from_env()
        self.store = Store(state_path if state_path is not None else DEFAULT_STATE_PATH)
        self.rules = Rules(self.store, self.config)
        self.faults = Faults()
        self.budget = Budget(
            self.config.hourly_budget, self.config.budget_window_seconds, self.config.clock
        )
        self.threads = ThreadLimit(self.config.per_endpoint_concurrency)
        self.user_locked = False
        self.failed_logins = 0
        self.denied: set[tuple[str, str]] = set()
        # Bounded: a dev server runs for days.
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=REQUEST_LOG_SIZE)
        if self.config.seed and self.store.meta("seeded") is None:
            seed(self.rules)

    # -- back door ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything and reseed."""
        self.store.wipe()
        if self.config.seed:
            seed(self.rules)
        self.faults.clear()
        self.budget.preload(0)
        self.user_locked = False
        self.denied.clear()
        self.request_log.clear()

    def records(self, entity: str) -> list[Record]:
        return self.store.all(_entity(entity))

    def record(self, entity: str, id: int) -> Record | None:
        return self.store.get(_entity(entity), id)

    def edit(self, entity: str, id: int, **fields: Any) -> Record:
        """Change a record as a UI user would, bypassing API validation."""
        name = _entity(entity)
        with self.store.transaction():
            record = self.store.get(name, id)
            if record is None:
                raise KeyError(f"{name} {id} does not exist")
            record.update(fields)
            self.store.put(name, record)
            if name == CONTRACT_SERVICES:
                self.rules.recompute_units(id)
            return record

    def delete(self, entity: str, id: int) -> bool:
        """Delete as a UI user would (the API itself has no delete for these entities)."""
        name = _entity(entity)
        with self.store.transaction():
            gone = self.store.delete(name, id)
            if name == CONTRACT_SERVICES:
                for adj in self.store.all(ADJUSTMENTS):
                    if adj["contractServiceID"] == id:
                        self.store.delete(ADJUSTMENTS, adj["id"])
                self.rules.recompute_units(id)
            return gone

    def deactivate_service(self, id: int) -> Record:
        return self.edit(SERVICES, id, isActive=False)

    def adjust_units(
        self,
        contract_id: int,
        service_id: int,
        unit_change: int,
        effective_date: str,
        *,
        adjusted_unit_price: float | None = None,
        adjusted_unit_cost: float | None = None,
    ) -> int:
        """A UI user's unit adjustment; the same rules as the API apply."""
        body: dict[str, Any] = {
            "contractID": contract_id,
            "serviceID": service_id,
            "unitChange": unit_change,
            "effectiveDate": effective_date,
        }
        if adjusted_unit_price is not None:
            body["adjustedUnitPrice"] = adjusted_unit_price
        if adjusted_unit_cost is not None:
            body["adjustedUnitCost"] = adjusted_unit_cost
        return self.rules.create(ADJUSTMENTS, body)

    def units(self, contract_service_id: int) -> list[Record]:
        return [u for u in self.store.all(UNITS) if u["contractServiceID"] == contract_service_id]

    def lock_user(self, locked: bool = True) -> None:
        """Lock (or, as an administrator in the UI would, unlock) the API user."""
        self.user_locked = locked
        self.failed_logins = 0

    def deny(self, entity: str, verb: str, denied: bool = True) -> None:
        """Take a permission (``create``/``update``/``query``) away from the API user."""
        key = (_entity(entity), verb)
        if denied:
            self.denied.add(key)
        else:
            self.denied.discard(key)

    def use_budget(self, count: int) -> None:
        """Pretend ``count`` requests were made in the current hour."""
        self.budget.preload(count)

    def add_fault(self, fault: Fault) -> Fault:
        return self.faults.add(fault)

    def wait_in_flight(self, endpoint: str, count: int, timeout: float = 5.0) -> bool:
        return self.threads.wait_for(endpoint, count, timeout)

    def close(self) -> None:
        self.faults.release()
        self.store.close()

    # -- the API --------------------------------------------------------------------------

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
        if not low or low[0] != "atservicesrest":
            raise E.framework(404, "No HTTP resource was found that matches the request URI.")
        if len(str(request.url)) > self.config.max_url_length:
            raise E.ApiFailure(404)
        rest = low[1:]
        if rest == ["versioninformation"]:
            _only(method, "GET")
            return JSONResponse({"apiVersions": ["1.0"]})
        if not rest or rest[0] != "v1.0":
            raise E.framework(404, "No HTTP resource was found that matches the request URI.")
        rest = rest[1:]
        if rest == ["zoneinformation"]:
            _only(method, "GET")
            return JSONResponse(self._zone(request))

        self._authenticate(request)
        endpoint = _endpoint(rest)
        await self._threshold_latency()
        wait = self.budget.spend()
        if wait is not None:
            raise self._limited(
                E.THRESHOLD_EXCEEDED.format(
                    budget=self.config.hourly_budget,
                    minutes=int(self.config.budget_window_seconds // 60),
                ),
                wait,
            )
        code = request.headers.get("apiintegrationcode", "")
        if not self.threads.enter(code, endpoint):
            raise self._limited(E.THREAD_LIMIT.format(n=self.config.per_endpoint_concurrency), 1)
        try:
            return await self._with_faults(request, method, path, rest)
        finally:
            self.threads.leave(code, endpoint)

    async def _with_faults(
        self, request: Request, method: str, path: str, rest: list[str]
    ) -> Response:
        fault = self.faults.take(method, path, ("latency", "error", "timeout"))
        if fault is not None and fault.kind == "latency":
            if fault.hang:
                await self._hang()  # held until released: lets tests pile up requests
            else:
                await self.config.sleep(fault.seconds)
        elif fault is not None and fault.kind == "error":
            return _answer(E.ApiFailure(fault.status, fault.body))
        elif fault is not None and fault.kind == "timeout":
            await self._hang()
            return Response(status_code=504)
        body = await _json_body(request) if method in ("POST", "PATCH", "PUT") else None
        result = self._dispatch(request, method, rest, body)
        lost = self.faults.take(method, path, ("lost_response",))
        if lost is not None:
            # The write is committed; only the answer goes missing.
            if lost.hang:
                await self._hang()
                return Response(status_code=504)
            return _answer(E.ApiFailure(lost.status if lost.status != 503 else 502, lost.body))
        return JSONResponse(result)

    async def _hang(self) -> None:
        await anyio.to_thread.run_sync(self.faults.wait_released, self.config.max_hang_seconds)

    async def _threshold_latency(self) -> None:
        if not self.config.threshold_latency:
            return
        used = self.budget.count() / max(self.config.hourly_budget, 1)
        if used >= 0.75:
            await self.config.sleep(1.0)
        elif used >= 0.5:
            await self.config.sleep(0.5)

    def _limited(self, message: str, wait: float) -> E.ApiFailure:
        status = self.config.rate_limit_status
        headers = {"Retry-After": str(max(1, int(wait + 0.999)))} if status == 429 else {}
        return E.ApiFailure(status, {"errors": [message]}, headers)

    def _public_url(self, request: Request) -> str:
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}"

    def _zone(self, request: Request) -> dict[str, Any]:
        user = request.query_params.get("user", "")
        if user.strip().lower() != self.config.username.lower():
            raise E.failure(E.ZONE_NOT_FOUND)
        base = self._public_url(request)
        return {
            "zoneName": self.config.zone_name,
            "url": f"{base}/ATServicesRest/",
            "webUrl": f"{base}/",
            "ci": self.config.ci,
        }

    def _authenticate(self, request: Request) -> None:
        # Order matters: Autotask resolves the user (zone) first, then the secret, then the
        # integration code (AUTOTASK.md §2).
        headers = request.headers
        user = headers.get("username", "")
        if user.strip().lower() != self.config.username.lower():
            raise E.failure(E.ZONE_NOT_FOUND)
        if headers.get("secret") != self.config.secret or self.user_locked:
            if not self.user_locked:
                self.failed_logins += 1
                limit = self.config.lockout_after_failures
                if limit is not None and self.failed_logins >= limit:
                    self.user_locked = True  # an administrator must unlock it in the UI
            body = (
                {"errors": ["Unauthorized"]} if self.config.unauthorized_body == "errors" else None
            )
            raise E.ApiFailure(401, body)
        self.failed_logins = 0
        if headers.get("apiintegrationcode") != self.config.integration_code:
            raise E.failure(E.INVALID_INTEGRATION_CODE)

    def _permit(self, entity: str, verb: str) -> None:
        if (entity, verb) in self.denied:
            raise E.failure(E.NO_PERMISSION.format(verb=verb))

    # -- routing --------------------------------------------------------------------------

    def _dispatch(self, request: Request, method: str, rest: list[str], body: Any) -> Any:
        if rest == ["version"]:
            _only(method, "GET")
            return {
                "majorVersion": "2026",
                "minorVersion": "1",
                "build": "sim",
                "customerType": "Simulator",
            }
        if rest == ["thresholdinformation"]:
            _only(method, "GET")
            return {
                "externalRequestThreshold": self.config.hourly_budget,
                "requestThresholdTimeframe": int(self.config.budget_window_seconds // 60),
                "currentTimeframeRequestCount": self.budget.count(),
            }
        entity = BY_LOWER.get(rest[0])
        if entity is None:
            raise E.framework(404, "No HTTP resource was found that matches the request URI.")
        tail = rest[1:]
        if not tail:
            return self._write(method, entity, body, parent_id=None)
        if tail[0] == "query":
            return self._query_route(request, method, entity, tail[1:], body)
        if tail[0] == "entityinformation":
            _only(method, "GET")
            return self._metadata(entity, tail[1:])
        if tail[0].isdigit():
            record_id = int(tail[0])
            if len(tail) == 1:
                _only(method, "GET")
                if entity == ADJUSTMENTS:
                    raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method=method))
                return self._get(entity, record_id)
            if entity == CONTRACTS and tail[1] in _CHILDREN:
                return self._child(method, _CHILDREN[tail[1]], record_id, tail[2:], body)
        raise E.framework(404, "No HTTP resource was found that matches the request URI.")

    def _write(self, method: str, entity: str, body: Any, parent_id: int | None) -> Any:
        if not isinstance(body, dict):
            body = {}
        if method == "POST" and (entity in _TOP_LEVEL_WRITES or parent_id is not None):
            self._permit(entity, "create")
            return {"itemId": self.rules.create(entity, body, parent_id=parent_id)}
        updatable = CAPABILITIES[entity]["update"] and (
            entity in _TOP_LEVEL_WRITES or parent_id is not None
        )
        if method in ("PATCH", "PUT") and updatable:
            self._permit(entity, "update")
            return {
                "itemId": self.rules.update(
                    entity, body, replace=method == "PUT", parent_id=parent_id
                )
            }
        raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method=method))

    def _child(self, method: str, child: str, contract_id: int, tail: list[str], body: Any) -> Any:
        if tail and tail[0] == "entityinformation":
            _only(method, "GET")
            return self._metadata(child, tail[1:])
        if not tail:
            if method == "GET" and child != ADJUSTMENTS:
                self._permit(child, "query")
                items = [r for r in self.store.all(child) if r.get("contractID") == contract_id]
                return _page(items, len(items) or 1, None)
            if self.store.get(CONTRACTS, contract_id) is None and method != "GET":
                raise E.failure(E.BAD_REFERENCE.format(field="contractID"))
            return self._write(method, child, body, parent_id=contract_id)
        if len(tail) == 1 and tail[0].isdigit() and child != ADJUSTMENTS:
            _only(method, "GET")
            record = self.store.get(child, int(tail[0]))
            if record is None or record.get("contractID") != contract_id:
                raise E.ApiFailure(404)
            return {"item": record}
        raise E.framework(404, "No HTTP resource was found that matches the request URI.")

    def _get(self, entity: str, record_id: int) -> Any:
        self._permit(entity, "query")
        record = self.store.get(entity, record_id)
        if record is None:
            raise E.ApiFailure(404)
        return {"item": record}

    def _metadata(self, entity: str, tail: list[str]) -> Any:
        if not tail:
            return {"info": entity_info(entity)}
        if tail == ["fields"]:
            return {
                "fields": [f.to_wire() for f in fields_of(entity, self.config.service_name_length)]
            }
        if tail == ["userdefinedfields"]:
            return {"fields": udf_info(entity)}
        raise E.framework(404, "No HTTP resource was found that matches the request URI.")

    # -- queries --------------------------------------------------------------------------

    def _query_route(
        self, request: Request, method: str, entity: str, tail: list[str], body: Any
    ) -> Any:
        if not CAPABILITIES[entity]["query"]:
            raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method=method))
        self._permit(entity, "query")
        if method == "GET":
            search = request.query_params.get("search")
            try:
                body = json.loads(search) if search else None
            except ValueError:
                raise E.failure(E.FILTER_REQUIRED) from None
        elif method != "POST":
            raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method=method))
        if not tail:
            return self._query(request, method, entity, body, after=None)
        if tail == ["count"]:
            parsed = filters.parse(body, entity, max_or=self.config.max_or_conditions)
            return {"queryCount": len(filters.select(self.store.all(entity), parsed))}
        if tail == ["next"]:
            token = _decode_token(request.query_params.get("paging", ""))
            if token.get("m") == "POST" and method == "GET":
                raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method="GET"))
            if token.get("e") != entity or token.get("h") != _body_hash(body):
                raise E.failure(E.BAD_PAGING)
            return self._query(request, method, entity, body, after=int(token["a"]))
        raise E.framework(404, "No HTTP resource was found that matches the request URI.")

    def _query(
        self, request: Request, method: str, entity: str, body: Any, after: int | None
    ) -> Any:
        parsed = filters.parse(body, entity, max_or=self.config.max_or_conditions)
        found = filters.select(self.store.all(entity), parsed)
        if after is not None:
            found = [r for r in found if int(r["id"]) > after]
        size = min(parsed.max_records or self.config.page_size, self.config.page_size)
        page = found[:size]
        next_url = None
        if len(found) > size:
            token = _encode_token(entity, method, body, int(page[-1]["id"]))
            next_url = (
                f"{self._public_url(request)}/ATServicesRest/V1.0/{entity}/query/next"
                f"?paging={token}"
            )
            if method == "GET":
                next_url += "&search=" + quote(json.dumps(body, separators=(",", ":")))
        return _page([filters.project(r, parsed.include_fields) for r in page], size, next_url)


# -- helpers ---------------------------------------------------------------------------------


def _entity(name: str) -> str:
    entity = BY_LOWER.get(name.lower())
    if entity is None:
        raise KeyError(f"unknown entity {name!r}")
    return entity


def _endpoint(rest: list[str]) -> str:
    if len(rest) >= 3 and rest[1].isdigit() and rest[2] in _CHILDREN:
        return _CHILDREN[rest[2]]
    return BY_LOWER.get(rest[0], rest[0])


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method=method))


def _page(items: list[Record], request_count: int, next_url: str | None) -> dict[str, Any]:
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": request_count,
            "prevPageUrl": None,
            "nextPageUrl": next_url,
        },
    }


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
        raise E.framework(400, "The request is invalid.") from None


def _body_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_token(entity: str, method: str, body: Any, after: int) -> str:
    raw = json.dumps({"e": entity, "m": method, "a": after, "h": _body_hash(body)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or "a" not in data:
            raise ValueError
        return data
    except ValueError:
        raise E.failure(E.BAD_PAGING) from None


# -- the ASGI app ----------------------------------------------------------------------------


def create_app(
    config: SimConfig | None = None,
    state_path: str | Path | None = None,
    *,
    simulator: Simulator | None = None,
) -> Starlette:
    """The simulator as a Starlette app; ``app.state.sim`` is its :class:`Simulator`."""
    sim = simulator or Simulator(config, state_path)
    routes = []
    if sim.config.enable_backdoor:
        from .backdoor import backdoor_routes

        routes.extend(backdoor_routes(sim))
    routes.append(
        Route(
            "/{rest:path}",
            sim.handle,
            methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        )
    )
    app = Starlette(routes=routes)
    app.state.sim = sim
    return app
