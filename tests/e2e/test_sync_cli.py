"""`prism sync ...` against the Autotask simulator (S3, S5, S7): the commands run in-process
with the worker's settings read from the environment, as a shell would run them."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from prism_cli.main import main
from prism_domain.sync import SyncTrigger
from prism_graph.billing.document import invoice_number
from prism_syncer.products.handlers import run_product_sync
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductSyncRun
from tests.integration.syncer.invoices.support import NOV, Line, World, month_end
from tests.support.psa import (
    TEST_SECRET_KEY,
    add_partner,
    add_product,
    add_program,
    configure,
    connect,
    probe_url,
    psa_config,
)

pytestmark = pytest.mark.e2e

NOV_30 = date(2026, 11, 30)


@pytest.fixture
def env(
    database_url: str, autotask: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a shell beside the worker has: its DATABASE_URL, SECRET_KEY and Autotask zone."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("AUTOTASK_ZONE_PROBE_URL", probe_url(autotask))
    monkeypatch.setenv("PRISM_ENV", "test")


def prism(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sync", *args])
    out, err = capsys.readouterr()
    return code, out, err


def services(autotask: SimHandle) -> dict[str, dict[str, object]]:
    return {str(s["name"]): s for s in autotask.sim.records("Services")}


def writes(autotask: SimHandle) -> list[str]:
    return [
        f"{method} {path}"
        for method, path, _ in autotask.sim.request_log
        if method in ("POST", "PATCH", "PUT") and not path.lower().endswith("/query")
    ]


@pytest.fixture
def partner(sync_engine: Engine, env: None) -> tuple[str, int, list[str]]:
    """A connected partner, a program with sync on, two products never synced."""
    name = f"Northwind MSP {uuid.uuid4().hex[:6]}"
    partner_id = add_partner(sync_engine, name)
    connect(sync_engine, partner_id)
    program_id = add_program(sync_engine)
    configure(sync_engine, partner_id, program_id)
    suffix = uuid.uuid4().hex[:6].upper()
    skus = [f"E3-{suffix}", f"E5-{suffix}"]
    for sku in skus:
        add_product(sync_engine, program_id, sku, rrp="36.00", buy="32.40")
    return name, program_id, skus


def test_preview_prints_what_would_be_created_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    autotask: SimHandle,
    sync_engine: Engine,
    partner: tuple[str, int, list[str]],
) -> None:
    name, program_id, skus = partner

    code, out, _ = prism(
        capsys, "products", "--partner", name, "--program", str(program_id), "--preview"
    )

    assert code == 0
    assert "nothing was written" in out
    for sku in skus:
        row = next(line for line in out.splitlines() if line.startswith(sku))
        assert "create" in row and f"PC_{sku}" in row and "36.00" in row
    assert "would create 2" in out
    assert not any(n.startswith("PC_") for n in services(autotask))
    assert writes(autotask) == []
    with Session(sync_engine) as session:
        assert session.scalars(select(ProductSyncRun)).all() == []


def test_a_product_run_creates_the_services_and_is_recorded(
    capsys: pytest.CaptureFixture[str],
    autotask: SimHandle,
    partner: tuple[str, int, list[str]],
) -> None:
    name, program_id, skus = partner

    code, out, _ = prism(capsys, "products", "--partner", name, "--program", str(program_id))

    assert code == 0
    made = services(autotask)
    assert {f"PC_{s}" for s in skus} <= made.keys()
    assert all(str(made[f"PC_{s}"]["unitPrice"]).startswith("36") for s in skus)
    run_id = int(out.split("Product sync run ", 1)[1].split(":")[0])
    assert f"Product sync run {run_id}: SUCCESS" in out
    assert "2 of 2 products synced (2 created, 0 updated)" in out

    code, out, _ = prism(capsys, "runs", "--partner", name, "--kind", "products", "--json")
    assert code == 0
    [listed] = json.loads(out)
    assert (listed["id"], listed["status"], listed["trigger"]) == (run_id, "SUCCESS", "MANUAL")
    assert listed["counts"]["created"] == 2

    code, out, _ = prism(capsys, "show", "product", str(run_id))
    assert code == 0
    for sku in skus:
        row = next(line for line in out.splitlines() if line.startswith(sku))
        assert "CREATE" in row and "SUCCESS" in row and str(made[f"PC_{sku}"]["id"]) in row


def test_an_invoice_run_sets_the_contract_units_and_show_prints_the_reconciliation(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask, skus=("E3", "E5"))
    customer = world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(customer, "E3", 5, NOV, date(2026, 11, 14)),
            Line(customer, "E3", 8, date(2026, 11, 15), NOV_30),
            Line(customer, "E5", 2, NOV, NOV_30, price="60.00", cost="54.00"),
        ],
    )
    number = invoice_number(NOV, invoice)

    code, out, err = prism(
        capsys,
        "invoices",
        "--partner",
        str(world.partner),
        "--program",
        str(world.program),
        "--invoice",
        number,
    )

    assert code == 0, err
    assert world.month_units(customer, "E3", NOV) == [5] * 14 + [8] * 16
    assert world.month_units(customer, "E5", NOV) == [2] * 30
    assert "SUCCESS" in out and number in out
    with Session(sync_engine) as session:
        [run] = session.scalars(select(InvoiceSyncRun)).all()
    assert (run.trigger, run.status, run.invoice_id) == ("MANUAL", "SUCCESS", invoice)

    code, out, _ = prism(capsys, "show", "invoice", str(run.id))
    assert code == 0
    report = out.split("Reconciliation: invoice units vs Autotask units", 1)[1]
    e3 = [line.split() for line in report.splitlines() if world.sku("E3") in line]
    # CUSTOMER (two words) SKU CONTRACT CONTRACT-SERVICE AS-OF INVOICE AUTOTASK MATCH
    assert [(r[-4], r[-3], r[-2], r[-1]) for r in e3] == [
        ("2026-11-01", "5", "5", "yes"),
        ("2026-11-15", "8", "8", "yes"),
    ]  # one row per stretch of days where neither side changes

    code, out, _ = prism(capsys, "show", "invoice", str(run.id), "--json")
    detail = json.loads(out)
    assert detail["reconciliation"] and all(r["matches"] for r in detail["reconciliation"])
    assert {(s["sku"], s["quantity"], s["outcome"]) for s in detail["subscriptions"]} == {
        (world.sku("E3"), "5", "SUCCESS"),
        (world.sku("E3"), "8", "SUCCESS"),
        (world.sku("E5"), "2", "SUCCESS"),
    }
    assert [c["outcome"] for c in detail["customers"]] == ["SUCCESS"]


def test_a_failed_invoice_run_exits_1_with_the_action_to_take(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask)
    inactive = world.customer(contract=world.add_contract(status=0))
    world.invoice(NOV, [Line(inactive, "M365-E3", 3, NOV, NOV_30)])

    code, out, _ = prism(
        capsys, "invoices", "--partner", str(world.partner), "--program", str(world.program)
    )

    assert code == 1
    assert "Invoice sync run" in out and "FAILURE" in out
    assert "CONTRACT_NOT_USABLE" in out
    assert world.units_on(inactive, "M365-E3", NOV) == 0


def test_unknown_names_exit_2_naming_what_was_not_found(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask)
    other = World.create(sync_engine, autotask)
    foreign = other.invoice(NOV, [Line(other.customer(), "M365-E3", 1, NOV, NOV_30)])

    code, _, err = prism(capsys, "products", "--partner", "Nobody Ltd", "--program", "1")
    assert code == 2 and "no partner named 'Nobody Ltd'" in err

    code, _, err = prism(
        capsys, "invoices", "--partner", str(world.partner), "--program", "Nonexistent CSP"
    )
    assert code == 2 and "no program named 'Nonexistent CSP'" in err

    code, _, err = prism(
        capsys,
        "invoices",
        "--partner",
        str(world.partner),
        "--program",
        str(world.program),
        "--invoice",
        str(foreign),
    )
    assert code == 2 and f"no invoice {foreign} of " in err

    code, _, err = prism(capsys, "show", "invoice", "999999")
    assert code == 2 and "no invoice sync run 999999" in err
    with Session(sync_engine) as session:
        assert session.scalars(select(InvoiceSyncRun)).all() == []


def test_a_program_with_sync_off_is_refused_with_exit_1(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask)
    world.settings(sync_enabled=False)

    code, _, err = prism(
        capsys, "invoices", "--partner", str(world.partner), "--program", str(world.program)
    )

    assert code == 1 and "is off" in err
    with Session(sync_engine) as session:
        assert session.scalars(select(InvoiceSyncRun)).all() == []


def test_status_shows_connection_settings_and_last_runs(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask)  # its product sync is the last product run

    code, out, _ = prism(capsys, "status", "--partner", str(world.partner), "--json")

    assert code == 0
    [view] = json.loads(out)
    assert view["partner"]["id"] == world.partner
    assert view["connection"]["status"] == "OK"
    [program] = view["programs"]
    assert (program["program"]["id"], program["sync_enabled"]) == (world.program, True)
    assert program["last_product_run"]["status"] == "SUCCESS"
    assert program["last_invoice_run"] is None and program["unfinished_invoice_runs"] == []

    code, out, _ = prism(capsys, "status", "--partner", str(world.partner))
    assert code == 0
    assert "connection:" in out and "OK" in out and "sync:" in out
    assert "last product run:" in out and "SUCCESS" in out


def test_the_safety_check_syncs_an_issued_invoice_never_synced(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask)
    customer = world.customer()
    this_month = date.today().replace(day=1)  # within the safety check's look-back
    world.invoice(this_month, [Line(customer, "M365-E3", 4, this_month, month_end(this_month))])

    code, out, _ = prism(capsys, "safety-check")

    assert code == 0
    assert "SAFETY_CHECK" in out and "SUCCESS" in out
    assert set(world.month_units(customer, "M365-E3", this_month)) == {4}

    code, out, _ = prism(capsys, "safety-check")
    assert code == 0 and out.startswith("nothing to do")


def test_the_run_functions_report_progress_to_the_end(
    sync_engine: Engine, autotask: SimHandle, database_url: str
) -> None:
    world = World.create(sync_engine, autotask, skus=("E3", "E5", "VISIO"))
    product_steps: list[tuple[int, int]] = []
    with Session(sync_engine) as session, session.begin():
        run_product_sync(
            session,
            psa_config(autotask),
            world.partner,
            world.program,
            SyncTrigger.MANUAL,
            on_progress=lambda done, total: product_steps.append((done, total)),
        )
    first, second = world.customer(), world.customer()
    invoice = world.invoice(
        NOV,
        [Line(c, sku, 2, NOV, month_end(NOV)) for c in (first, second) for sku in ("E3", "E5")],
    )
    job_steps: list[tuple[int, int]] = []

    world.syncer().drive(
        world.start(invoice), on_progress=lambda done, total: job_steps.append((done, total))
    )

    assert product_steps == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert job_steps[0] == (0, 4) and job_steps[-1] == (4, 4)
    assert [d for d, _ in job_steps] == sorted(d for d, _ in job_steps)


def test_invoices_revert_puts_the_units_back_and_refuses_a_second_time(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask, skus=("E3",))
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 4, NOV, NOV_30)])
    run = world.sync(invoice)
    assert world.month_units(customer, "E3", NOV) == [4] * 30
    where = ("--partner", str(world.partner), "--program", str(world.program))

    code, out, err = prism(capsys, "invoices", *where, "--revert", str(run.id))

    assert code == 0, err
    assert f"reverts run {run.id}" in err and "SUCCESS" in out
    assert world.month_units(customer, "E3", NOV) == [0] * 30
    with Session(sync_engine) as session:
        revert = session.scalar(
            select(InvoiceSyncRun).where(InvoiceSyncRun.reverts_run_id == run.id)
        )
    assert revert is not None and (revert.trigger, revert.status) == ("REVERT", "SUCCESS")

    code, _, err = prism(capsys, "invoices", *where, "--revert", str(run.id))
    assert code == 1
    assert f"already reverted by run #{revert.id}" in err
    assert world.month_units(customer, "E3", NOV) == [0] * 30


def test_invoices_preview_prints_every_adjustment_and_amount_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], sync_engine: Engine, autotask: SimHandle, env: None
) -> None:
    world = World.create(sync_engine, autotask, skus=("E3",))
    customer = world.customer()
    invoice = world.invoice(
        NOV,
        [
            Line(customer, "E3", 5, NOV, date(2026, 11, 14)),
            Line(customer, "E3", 8, date(2026, 11, 15), NOV_30),
        ],
    )
    where = ["--partner", str(world.partner), "--program", str(world.program)]

    code, out, err = prism(capsys, "invoices", *where, "--preview")

    assert code == 0, err
    assert world.writes() == []
    assert "nothing was written" in out and invoice_number(NOV, invoice) in out
    rows = [line.split() for line in out.splitlines() if world.sku("E3") in line]
    # CUSTOMER (two words) SKU FROM CHANGE UNITS(3) PRICE AMOUNT
    assert [(r[3], r[4], r[-1]) for r in rows] == [
        ("2026-11-01", "+5", "180.00"),  # 5 x 36.00, the whole month
        ("2026-11-15", "+3", "57.60"),  # 3 x 36.00 x 16/30
    ]
    code, out, _ = prism(capsys, "invoices", *where, "--preview", "--json")
    shown = json.loads(out)
    assert (shown["amount"], shown["adjustments"], shown["currency"]) == ("237.60", 2, "AUD")
    assert world.writes() == []

    code, _, err = prism(capsys, "invoices", *where)  # the run writes what was shown
    assert code == 0, err
    written = sorted((str(a["effectiveDate"])[:10], a["unitChange"]) for a in world.adjustments())
    adjustments = shown["customers"][0]["services"][0]["adjustments"]
    assert written == [(a["effective"], a["unit_change"]) for a in adjustments]
