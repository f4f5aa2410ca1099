"""What the product sync's tests share: a run against the simulator and what it wrote."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from prism_domain.sync import SyncTrigger
from prism_syncer.products.handlers import run_product_sync
from prism_tables.sync.products import ProductSyncRun, ProductSyncRunItem
from tests.support.psa import (
    psa_config,
)


def sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8].upper()}"


def run(engine: Engine, autotask: SimHandle, partner: int, program: int) -> ProductSyncRun:
    with Session(engine) as session, session.begin():
        result = run_product_sync(
            session, psa_config(autotask), partner, program, SyncTrigger.MANUAL
        )
        assert result is not None
        session.expunge(result)
        return result


def items(engine: Engine, run_id: int) -> dict[str, ProductSyncRunItem]:
    with Session(engine) as session:
        rows = session.scalars(
            select(ProductSyncRunItem).where(ProductSyncRunItem.run_id == run_id)
        ).all()
        return {r.sku: r for r in rows}


def services(autotask: SimHandle) -> dict[str, dict]:  # type: ignore[type-arg]
    return {str(r["name"]): dict(r) for r in autotask.sim.records("Services")}


def writes(autotask: SimHandle) -> list[str]:
    return [
        f"{method} {path}"
        for method, path, _ in autotask.sim.request_log
        if method in ("POST", "PATCH", "PUT") and not path.endswith("/query")
    ]
