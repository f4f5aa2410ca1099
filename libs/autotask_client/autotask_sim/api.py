"""Request handling: authentication, limits, faults, routing, and the API's answers.

A mixin of :class:`~autotask_sim.simulator.Simulator`, kept apart so the state and its
back door read on their own.
"""

from __future__ import annotations

import json
import random
from collections import deque
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import errors as E
from . import filters
from .config import SimConfig
from .faults import Faults
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
from .paging import body_hash, decode_token, encode_token, page
from .rules import Rules
from .store import Record, Store

CHILDREN = {"services": CONTRACT_SERVICES, "serviceadjustments": ADJUSTMENTS, "serviceunits": UNITS}
_TOP_LEVEL_WRITES = {COMPANIES, CONTRACTS, SERVICES, ADJUSTMENTS}
_NO_RESOURCE = "No HTTP resource was found that matches the request URI."


class Api:
    config: SimConfig
    store: Store
    rules: Rules
    faults: Faults
    budget: Budget
    threads: ThreadLimit
    user_locked: bool
    user_active: bool
    failed_logins: int
    denied: set[tuple[str, str]]
    request_log: deque[tuple[str, str, int]]
    latency_random: random.Random

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
            raise E.framework(404, _NO_RESOURCE)
        if len(str(request.url)) > self.config.max_url_length:
            raise E.ApiFailure(404)
        rest = low[1:]
        if rest == ["versioninformation"]:
            _only(method, "GET")
            return JSONResponse({"apiVersions": ["1.0"]})
        if not rest or rest[0] != "v1.0":
            raise E.framework(404, _NO_RESOURCE)
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
            if self.config.latency is not None:
                await self.config.sleep(self.latency_random.uniform(*self.config.latency))
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
        # integration code (AUTOTASK.md §2). A locked or inactive user is refused whatever
        # secret is sent: unlocking (or activating) it in the UI is the only way back.
        headers = request.headers
        user = headers.get("username", "")
        if user.strip().lower() != self.config.username.lower():
            raise E.failure(E.ZONE_NOT_FOUND)
        if self.user_locked or not self.user_active:
            if self.config.disabled_user_answer == "plain":
                raise self._unauthorized()
            state = E.USER_LOCKED if self.user_locked else E.USER_INACTIVE
            raise E.failure(state, status=401)
        if headers.get("secret") != self.config.secret:
            self.failed_logins += 1
            limit = self.config.lockout_after_failures
            if limit is not None and self.failed_logins >= limit:
                self.user_locked = True  # an administrator must unlock it in the UI
            raise self._unauthorized()
        self.failed_logins = 0
        if headers.get("apiintegrationcode") != self.config.integration_code:
            raise E.failure(E.INVALID_INTEGRATION_CODE)

    def _unauthorized(self) -> E.ApiFailure:
        """The answer to a wrong secret."""
        body = {"errors": ["Unauthorized"]} if self.config.unauthorized_body == "errors" else None
        return E.ApiFailure(401, body)

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
            raise E.framework(404, _NO_RESOURCE)
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
            if entity == CONTRACTS and tail[1] in CHILDREN:
                return self._child(method, CHILDREN[tail[1]], record_id, tail[2:], body)
        raise E.framework(404, _NO_RESOURCE)

    def _write(self, method: str, entity: str, body: Any, parent_id: int | None) -> Any:
        if not isinstance(body, dict):
            body = {}
        if method == "POST" and (entity in _TOP_LEVEL_WRITES or parent_id is not None):
            self._permit(entity, "create")
            new_id = self.rules.create(entity, body, parent_id=parent_id)
            if entity == ADJUSTMENTS and self.config.adjustment_item_id != "id":
                return {"itemId": None if self.config.adjustment_item_id == "null" else 0}
            return {"itemId": new_id}
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
                items = [
                    r
                    for r in self.store.where(child, "contractID", [contract_id])
                    if r.get("contractID") == contract_id
                ]
                return page(items, len(items) or 1, None)
            if self.store.get(CONTRACTS, contract_id) is None and method != "GET":
                raise E.failure(E.BAD_REFERENCE.format(field="contractID"))
            return self._write(method, child, body, parent_id=contract_id)
        if len(tail) == 1 and tail[0].isdigit() and child != ADJUSTMENTS:
            _only(method, "GET")
            record = self.store.get(child, int(tail[0]))
            if record is None or record.get("contractID") != contract_id:
                raise E.ApiFailure(404)
            return {"item": record}
        raise E.framework(404, _NO_RESOURCE)

    def _get(self, entity: str, record_id: int) -> Any:
        self._permit(entity, "query")
        record = self.store.get(entity, record_id)
        if record is None:
            if self.config.missing_item == "null":
                return {"item": None}
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
        raise E.framework(404, _NO_RESOURCE)

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
            found = filters.select(
                self._candidates(entity, parsed), parsed, time_zone=self.config.instance_time_zone
            )
            return {"queryCount": len(found)}
        if tail == ["next"]:
            token = decode_token(request.query_params.get("paging", ""))
            if token.get("m") == "POST" and method == "GET":
                raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method="GET"))
            if token.get("e") != entity or token.get("h") != body_hash(body):
                raise E.failure(E.BAD_PAGING)
            return self._query(request, method, entity, body, after=int(token["a"]))
        raise E.framework(404, _NO_RESOURCE)

    def _candidates(self, entity: str, parsed: filters.ParsedQuery) -> list[Record]:
        """The records a query may match: those an indexed filter points at, else all."""
        narrow = filters.narrowing(parsed, entity)
        if narrow is None:
            return self.store.all(entity)
        return self.store.where(entity, *narrow)

    def _query(
        self, request: Request, method: str, entity: str, body: Any, after: int | None
    ) -> Any:
        parsed = filters.parse(body, entity, max_or=self.config.max_or_conditions)
        found = filters.select(
            self._candidates(entity, parsed), parsed, time_zone=self.config.instance_time_zone
        )
        if after is not None:
            found = [r for r in found if int(r["id"]) > after]
        size = min(parsed.max_records or self.config.page_size, self.config.page_size)
        served = found[:size]
        next_url = None
        if len(found) > size:
            token = encode_token(entity, method, body, int(served[-1]["id"]))
            next_url = (
                f"{self._public_url(request)}/ATServicesRest/V1.0/{entity}/query/next"
                f"?paging={token}"
            )
            if method == "GET":
                next_url += "&search=" + quote(json.dumps(body, separators=(",", ":")))
        return page([filters.project(r, parsed.include_fields) for r in served], size, next_url)


def entity_name(name: str) -> str:
    entity = BY_LOWER.get(name.lower())
    if entity is None:
        raise KeyError(f"unknown entity {name!r}")
    return entity


def _endpoint(rest: list[str]) -> str:
    if len(rest) >= 3 and rest[1].isdigit() and rest[2] in CHILDREN:
        return CHILDREN[rest[2]]
    return BY_LOWER.get(rest[0], rest[0])


def _only(method: str, allowed: str) -> None:
    if method != allowed:
        raise E.framework(405, E.METHOD_NOT_ALLOWED.format(method=method))


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
