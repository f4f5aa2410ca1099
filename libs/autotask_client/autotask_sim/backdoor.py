"""The test-only back door over HTTP, for tools that run the simulator out of process.

Everything here models people acting in the Autotask UI or switches faults; none of it
exists in the real API. Disabled with ``AUTOTASK_SIM_BACKDOOR=0``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import errors as E
from .faults import fault_from_json

if TYPE_CHECKING:
    from .simulator import Simulator


def backdoor_routes(sim: Simulator) -> list[Route]:
    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        return data if isinstance(data, dict) else {}

    async def reset(request: Request) -> Response:
        sim.reset()
        return JSONResponse({"ok": True})

    async def records(request: Request) -> Response:
        try:
            return JSONResponse(sim.records(request.path_params["entity"]))
        except KeyError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    async def record(request: Request) -> Response:
        entity, id = request.path_params["entity"], int(request.path_params["id"])
        try:
            if request.method == "DELETE":
                return JSONResponse({"deleted": sim.delete(entity, id)})
            if request.method == "PATCH":
                return JSONResponse(sim.edit(entity, id, **await body(request)))
            found = sim.record(entity, id)
        except KeyError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse(found, status_code=200 if found else 404)

    async def adjust(request: Request) -> Response:
        data = await body(request)
        try:
            new_id = sim.adjust_units(
                int(request.path_params["id"]),
                int(data["serviceID"]),
                int(data["unitChange"]),
                str(data["effectiveDate"]),
                adjusted_unit_price=data.get("adjustedUnitPrice"),
                adjusted_unit_cost=data.get("adjustedUnitCost"),
            )
        except E.ApiFailure as failure:
            return JSONResponse(failure.body, status_code=failure.status)
        return JSONResponse({"itemId": new_id})

    async def user(request: Request) -> Response:
        data = await body(request)
        if "locked" in data or "active" not in data:
            sim.lock_user(bool(data.get("locked", False)))
        if "active" in data:
            sim.activate_user(bool(data["active"]))
        return JSONResponse({"locked": sim.user_locked, "active": sim.user_active})

    async def permissions(request: Request) -> Response:
        data = await body(request)
        sim.deny(str(data["entity"]), str(data["verb"]), not data.get("allowed", False))
        return JSONResponse({"denied": sorted(f"{e}:{v}" for e, v in sim.denied)})

    async def usage(request: Request) -> Response:
        data = await body(request)
        sim.use_budget(int(data.get("count", 0)))
        return JSONResponse({"count": sim.budget.count()})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            sim.add_fault(fault_from_json(await body(request)))
        elif request.method == "DELETE":
            sim.faults.clear()
        return JSONResponse([asdict(f) for f in sim.faults.active()])

    async def release(request: Request) -> Response:
        sim.faults.release()
        return JSONResponse({"ok": True})

    async def requests(request: Request) -> Response:
        return JSONResponse([list(r) for r in sim.request_log])

    return [
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/records/{entity}", records, methods=["GET"]),
        Route("/_sim/records/{entity}/{id:int}", record, methods=["GET", "PATCH", "DELETE"]),
        Route("/_sim/contracts/{id:int}/adjust", adjust, methods=["POST"]),
        Route("/_sim/user", user, methods=["POST"]),
        Route("/_sim/permissions", permissions, methods=["POST"]),
        Route("/_sim/usage", usage, methods=["POST"]),
        Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/faults/release", release, methods=["POST"]),
        Route("/_sim/requests", requests, methods=["GET"]),
    ]
