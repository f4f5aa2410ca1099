"""What the product sync's tests share, on either PSA: a run, what it recorded, and the
PSA's services seen the same way on both (an Autotask service, a ConnectWise catalog item),
with a person's edits in the PSA and what the sync wrote there."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import Fault
from connectwise_sim import Fault as CwFault
from connectwise_sim.entities import CATALOG
from connectwise_sim.seed import SUBCATEGORY_ID
from prism_domain.sync import PsaKind, SyncTrigger
from prism_psa.connections import connection_of
from prism_psa.port import NewService
from prism_psa.secrets import CredentialCipher
from prism_syncer.products.handlers import run_product_sync
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection
from prism_tables.sync.products import ProductSyncRun, ProductSyncRunItem
from tests.support.psa import RECURRING_CODE_ID, TEST_SECRET_KEY
from tests.support.sides import AutotaskSide, PsaSide

#: The billing code the side's program is set to: an Autotask billing code, a ConnectWise
#: product subcategory.
BILLING_CODE = {PsaKind.AUTOTASK: RECURRING_CODE_ID, PsaKind.CONNECTWISE: SUBCATEGORY_ID}
#: Where the ConnectWise simulator serves its API (the codebase its companyinfo names).
CW_API = "/v2025_1/apis/3.0"


def sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:8].upper()}"


def run(engine: Engine, side: PsaSide, partner: int, program: int) -> ProductSyncRun:
    with Session(engine) as session, session.begin():
        result = run_product_sync(session, side.config(), partner, program, SyncTrigger.MANUAL)
        assert result is not None
        session.expunge(result)
        return result


def items(engine: Engine, run_id: int) -> dict[str, ProductSyncRunItem]:
    with Session(engine) as session:
        rows = session.scalars(
            select(ProductSyncRunItem).where(ProductSyncRunItem.run_id == run_id)
        ).all()
        return {r.sku: r for r in rows}


def settings(engine: Engine, partner: int, program: int, **values: Any) -> None:
    """Change the program's sync settings, as the partner does on the settings screen."""
    with Session(engine) as session, session.begin():
        row = session.scalar(
            select(ProgramSyncSettings).where(
                ProgramSyncSettings.partner_id == partner,
                ProgramSyncSettings.program_id == program,
            )
        )
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def change_stored_secret(engine: Engine, partner: int, secret: str) -> None:
    """The stored connection's secret (Autotask's secret, ConnectWise's private key) is no
    longer the one the PSA accepts: it was changed in the PSA since."""
    with Session(engine) as session, session.begin():
        row = session.scalars(select(PsaConnection).where(PsaConnection.partner_id == partner))
        row.one().secret_encrypted = CredentialCipher(TEST_SECRET_KEY).encrypt(secret)


# -- the PSA's services, seen the same way on both -------------------------------------------


def services(side: PsaSide) -> dict[str, dict[str, Any]]:
    """Every service in the PSA by its name (a catalog item's identifier), as `id`, `name`,
    `price`, `cost`, `active`, `description`, `invoice_description`, `billing_code`."""
    if isinstance(side, AutotaskSide):
        return {
            str(r["name"]): {
                "id": int(r["id"]),
                "name": r["name"],
                "price": float(r["unitPrice"]),
                "cost": float(r["unitCost"]),
                "active": r["isActive"],
                "description": r["description"],
                "invoice_description": r["invoiceDescription"],
                "billing_code": r["billingCodeID"],
            }
            for r in side.handle.sim.records("Services")
        }
    return {
        str(r["identifier"]): {
            "id": int(r["id"]),
            "name": r["identifier"],
            "price": float(r["price"]),
            "cost": float(r["cost"]),
            "active": r["inactiveFlag"] is False,
            "description": r["description"],
            "invoice_description": r["customerDescription"],
            "billing_code": (r["subcategory"] or {}).get("id"),
        }
        for r in side.cw.sim.records(CATALOG)
    }


def service(side: PsaSide, id: int) -> dict[str, Any] | None:
    return next((s for s in services(side).values() if s["id"] == id), None)


#: The neutral names of the fields a person may edit, per PSA.
_FIELDS = {
    PsaKind.AUTOTASK: {"name": "name", "description": "description", "price": "unitPrice"},
    PsaKind.CONNECTWISE: {"name": "identifier", "description": "description", "price": "price"},
}


def edit(side: PsaSide, id: int, **changes: Any) -> None:
    """A person edits the service in the PSA's UI (`name`, `description`, `price`,
    `active`): no API rule applies, and it is not the sync's write."""
    fields = {_FIELDS[side.kind][k]: v for k, v in changes.items() if k != "active"}
    if isinstance(side, AutotaskSide):
        if "active" in changes:
            fields["isActive"] = changes["active"]
        side.handle.sim.edit("Services", id, **fields)
    else:
        if "active" in changes:
            fields["inactiveFlag"] = not changes["active"]
        side.cw.sim.edit(CATALOG, id, **fields)


def delete(side: PsaSide, id: int) -> None:
    """A person deletes the service in the PSA's UI."""
    if isinstance(side, AutotaskSide):
        side.handle.sim.delete("Services", id)
    else:
        side.cw.sim.store.delete(CATALOG, id)


def add_by_hand(engine: Engine, side: PsaSide, partner: int, program: int, name: str) -> int:
    """A person creates a service named `name` in the program's billing code, through the
    PSA's API with the partner's stored connection (so it is not Prism's own: its texts are
    not the ones Prism writes)."""
    with Session(engine) as session:
        connection = connection_of(session, partner, side.kind.value)
        assert connection is not None
        psa = side.config().open(connection)
    try:
        return psa.create_service(
            NewService(
                name, "by hand", "by hand", Decimal(1), Decimal(1), BILLING_CODE[side.kind], None
            )
        )
    finally:
        psa.close()


def lose_next_create_answer(side: PsaSide) -> None:
    """The next service create lands in the PSA, and its answer is lost (a 502)."""
    if isinstance(side, AutotaskSide):
        side.handle.sim.add_fault(
            Fault("lost_response", method="POST", path=r"/Services$", status=502)
        )
    else:
        side.cw.sim.add_fault(
            CwFault(502, method="POST", path=r"/procurement/catalog$", after_write=True)
        )


def lock_out_api_user(side: PsaSide) -> None:
    """The API user the partner connected with is shut out after connecting: Autotask locks
    it (failed logins, or an administrator). ConnectWise has no lock an API answer shows; a
    member shut out is refused by its security role, here losing the product catalog."""
    if isinstance(side, AutotaskSide):
        side.handle.sim.lock_user()
        return
    for method in ("GET", "POST", "PATCH"):
        side.cw.sim.deny(CATALOG, method)


# -- what the sync sent ----------------------------------------------------------------------


def clear_log(side: PsaSide) -> None:
    side.clear_log()


def _log(side: PsaSide) -> list[tuple[str, str, int]]:
    if isinstance(side, AutotaskSide):
        return list(side.handle.sim.request_log)
    return list(side.cw.sim.request_log)


def writes(side: PsaSide) -> list[str]:
    """The product writes sent to the PSA, as "METHOD path"."""
    return [write for write, _ in write_answers(side)]


def write_answers(side: PsaSide) -> list[tuple[str, int]]:
    """The product writes sent to the PSA ("METHOD path") and the status each got back."""
    return [
        (f"{method} {path}", status)
        for method, path, status in _log(side)
        if method in ("POST", "PATCH", "PUT", "DELETE")
        and not path.endswith("/query")
        and ("/Services" in path or "/procurement/catalog" in path)
    ]


def reads(side: PsaSide) -> list[str]:
    """The reads sent to the PSA, as "METHOD path", but for where its API lives (Autotask's
    zone, ConnectWise's codebase): asked once per connection opened, and free."""
    return [
        f"{method} {path}"
        for method, path, _ in _log(side)
        if (method == "GET" or path.endswith("/query"))
        and not path.endswith("ZoneInformation")
        and "/login/companyinfo/" not in path
    ]
