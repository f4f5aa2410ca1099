"""S7 invoice sync history, status and overview, S5's manual sync, and N3's request budget
through the GraphQL API. The runs are written straight into the syncer's tables (the shape
the invoice sync records), so these tests read exactly what a run left behind."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from dramatiq.rate_limits.backends import StubBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_psa.limits import DramatiqLimiter, budget_use
from prism_tables.billing import Invoice
from prism_tables.sync.invoices import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from tests.integration.sync.mapping_support import (
    Setup,
    connect,
    given_partner_a_with_customers,
    invoice_sync_events,
    program_sync,
)
from tests.support.catalogue import create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid
from tests.support.sides import ConnectWiseSide, PsaSide

pytestmark = pytest.mark.integration

RUNS = """query($p: ID!, $first: Int, $after: String) {
  invoiceSyncRuns(programId: $p, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id trigger status customersConsidered customersSynced customersFailed
      subscriptionsSynced adjustmentsApplied warnings startedAt } } } }"""
RUN = """query($id: ID!) { invoiceSyncRun(id: $id) {
  id status trigger summary message invoice { id number } customer { name }
  customers { customerId customerName customer { name } outcome code message contractId
    subscriptionsSynced subscriptionsFailed
    subscriptions { subscriptionId sku productName periodStart periodEnd effectiveDate
      quantity unitCost unitPrice unitChange contractId contractServiceId outcome code message } }
  reconciliation { customerId sku contractId contractServiceId asOf invoiceUnits psaUnits
    matches } } }"""
OVERVIEW = """query($p: ID!) { invoiceSyncOverview(programId: $p) {
  lastSuccessfulAt inProgress errors warnings lastRun { id status summary } } }"""
SYNC = """mutation($input: SyncInvoicesInput!) { syncInvoices(input: $input) {
  requested invoice { id number } errors { field code message } } }"""


@pytest.fixture
async def setup(
    side_api: GraphQLClient, client: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> Setup:
    """Partner A's program syncing to `psa_side`'s PSA: history, status and manual syncs
    read and act alike on Autotask and ConnectWise."""
    return await given_partner_a_with_customers(side_api, client, tenants, side=psa_side)


def pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


def add_invoice(engine: Engine, partner_id: int, program_id: int, month: int = 10) -> int:
    with Session(engine) as session, session.begin():
        invoice = Invoice(
            key=f"test-{uuid.uuid4().hex}",
            partner_id=partner_id,
            program_id=program_id,
            period_start=date(2026, month, 1),
            period_end=date(2026, month, 28),
            currency="AUD",
            total=Decimal("100.00"),
        )
        session.add(invoice)
        session.flush()
        return invoice.id


def add_run(
    engine: Engine,
    partner_id: int,
    program_id: int,
    *,
    status: str,
    day: int,
    invoice_id: int | None = None,
    trigger: str = "INVOICE_ISSUED",
    counts: tuple[int, int, int] = (0, 0, 0),
    warnings: int = 0,
    items: list[dict[str, object]] = (),  # type: ignore[assignment]
    reconciliation: list[dict[str, object]] = (),  # type: ignore[assignment]
) -> int:
    considered, synced, failed = counts
    started = datetime(2026, 11, day, 10, 0, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        run = InvoiceSyncRun(
            partner_id=partner_id,
            program_id=program_id,
            invoice_id=invoice_id,
            trigger=trigger,
            status=status,
            started_at=started,
            finished_at=None if status in ("PENDING", "RUNNING") else started,
            customers_considered=considered,
            customers_synced=synced,
            customers_failed=failed,
            subscriptions_synced=synced,
            adjustments_applied=synced * 2,
            warnings=warnings,
        )
        session.add(run)
        session.flush()
        for item in items:
            session.add(InvoiceSyncRunItem(run_id=run.id, **item))
        for row in reconciliation:
            session.add(InvoiceSyncReconciliation(run_id=run.id, **row))
        return run.id


def customer_item(customer_id: int, name: str, outcome: str, **more: object) -> dict[str, object]:
    return {
        "kind": "CUSTOMER",
        "customer_id": customer_id,
        "customer_name": name,
        "outcome": outcome,
        **more,
    }


def line_item(customer_id: int, name: str, outcome: str, **more: object) -> dict[str, object]:
    return {
        "customer_id": customer_id,
        "customer_name": name,
        "subscription_id": 9001,
        "sku": "CFQ7TTC0LH18:0001",
        "product_name": "Microsoft 365 Business Basic",
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 10, 31),
        "effective_date": date(2026, 10, 1),
        "quantity": "5",
        "unit_cost": "8.10",
        "unit_price": "9.00",
        "outcome": outcome,
        **more,
    }


async def test_history_status_and_overview_show_what_the_runs_recorded(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup, sync_engine: Engine
) -> None:
    program = pk(setup.program)
    contoso, fabrikam = pk(setup["Contoso"]), pk(setup["Fabrikam"])
    invoice = add_invoice(sync_engine, tenants.a.id, program)
    older = add_run(
        sync_engine,
        tenants.a.id,
        program,
        status="SUCCESS",
        day=1,
        invoice_id=invoice,
        trigger="MANUAL",
        counts=(1, 1, 0),
        items=[customer_item(contoso, "Contoso", "SUCCESS", contract_id=29683001)],
    )
    failed = add_run(
        sync_engine,
        tenants.a.id,
        program,
        status="FAILURE",
        day=2,
        invoice_id=invoice,
        counts=(2, 1, 1),
        warnings=1,
        items=[
            customer_item(
                fabrikam,
                "Fabrikam",
                "ERROR",
                code="CONTRACT_NOT_USABLE",
                message="The contract is not active",
                contract_id=29683003,
            ),
            line_item(
                fabrikam, "Fabrikam", "ERROR", code="CONTRACT_NOT_USABLE", contract_id=29683003
            ),
            customer_item(contoso, "Contoso", "SUCCESS", contract_id=29683001),
            line_item(
                contoso,
                "Contoso",
                "SUCCESS",
                unit_change=2,
                contract_id=29683001,
                contract_service_id=55,
            ),
        ],
        reconciliation=[
            {
                "customer_id": contoso,
                "sku": "CFQ7TTC0LH18:0001",
                "contract_id": 29683001,
                "contract_service_id": 55,
                "as_of": date(2026, 10, 31),
                "invoice_units": 5,
                "psa_units": 5,
                "matches": True,
            }
        ],
    )
    running = add_run(sync_engine, tenants.a.id, program, status="RUNNING", day=3)
    b_run = add_run(sync_engine, tenants.b.id, program, status="SUCCESS", day=4)
    a = side_api.as_(tenants.a.member)  # reading history needs no admin

    history = await a.data(RUNS, {"p": setup.program})
    detail = await a.data(RUN, {"id": gid("InvoiceSyncRun", failed)})
    node = await a.data(
        "query($id: ID!) { node(id: $id) { ... on InvoiceSyncRun { id status } } }",
        {"id": gid("InvoiceSyncRun", failed)},
    )
    overview = await a.data(OVERVIEW, {"p": setup.program})
    first = await a.data(RUNS, {"p": setup.program, "first": 2})
    rest = await a.data(
        RUNS,
        {
            "p": setup.program,
            "first": 2,
            "after": first["invoiceSyncRuns"]["pageInfo"]["endCursor"],
        },
    )
    listed = await a.data(
        """query($p: ID!) { syncCustomers(programId: $p) { edges { node {
        customer { name } lastInvoiceSync { outcome code message run { id } } } } } }""",
        {"p": setup.program},
    )

    runs = [e["node"] for e in history["invoiceSyncRuns"]["edges"]]
    assert [pk(r["id"]) for r in runs] == [running, failed, older]  # newest first
    assert [(r["status"], r["trigger"]) for r in runs] == [
        ("RUNNING", "INVOICE_ISSUED"),
        ("FAILURE", "INVOICE_ISSUED"),
        ("SUCCESS", "MANUAL"),
    ]
    assert (runs[1]["customersConsidered"], runs[1]["customersSynced"]) == (2, 1)
    assert (runs[1]["customersFailed"], runs[1]["warnings"]) == (1, 1)
    pages = first["invoiceSyncRuns"]["edges"] + rest["invoiceSyncRuns"]["edges"]
    assert [e["node"]["id"] for e in pages] == [r["id"] for r in runs]

    run = detail["invoiceSyncRun"]
    number = run["invoice"]["number"]
    assert run["summary"] == f"1 of 2 customers synced for invoice {number}"
    assert run["customer"] is None
    assert [(c["customerName"], c["outcome"], c["code"]) for c in run["customers"]] == [
        ("Contoso", "SUCCESS", None),
        ("Fabrikam", "ERROR", "CONTRACT_NOT_USABLE"),
    ]
    contoso_result, fabrikam_result = run["customers"]
    assert contoso_result["customer"] == {"name": "Contoso"}
    assert (contoso_result["subscriptionsSynced"], fabrikam_result["subscriptionsFailed"]) == (1, 1)
    assert fabrikam_result["message"] == "The contract is not active"
    [line] = contoso_result["subscriptions"]
    assert line == {
        "subscriptionId": gid("CustomerSubscription", 9001),
        "sku": "CFQ7TTC0LH18:0001",
        "productName": "Microsoft 365 Business Basic",
        "periodStart": "2026-10-01",
        "periodEnd": "2026-10-31",
        "effectiveDate": "2026-10-01",
        "quantity": "5",
        "unitCost": "8.10",
        "unitPrice": "9.00",
        "unitChange": 2,
        "contractId": 29683001,
        "contractServiceId": 55,
        "outcome": "SUCCESS",
        "code": None,
        "message": None,
    }
    assert run["reconciliation"] == [
        {
            "customerId": setup["Contoso"],
            "sku": "CFQ7TTC0LH18:0001",
            "contractId": 29683001,
            "contractServiceId": 55,
            "asOf": "2026-10-31",
            "invoiceUnits": 5,
            "psaUnits": 5,
            "matches": True,
        }
    ]
    assert node["node"] == {"id": gid("InvoiceSyncRun", failed), "status": "FAILURE"}

    card = overview["invoiceSyncOverview"]
    assert card["lastSuccessfulAt"].startswith("2026-11-01T10:00")
    assert pk(card["lastRun"]["id"]) == failed  # the newest finished run, whatever its status
    assert (card["inProgress"], card["errors"], card["warnings"]) == (True, 1, 1)

    last = {
        e["node"]["customer"]["name"]: e["node"]["lastInvoiceSync"]
        for e in listed["syncCustomers"]["edges"]
    }
    assert last["Contoso"]["outcome"] == "SUCCESS"
    assert (last["Fabrikam"]["outcome"], last["Fabrikam"]["code"]) == (
        "ERROR",
        "CONTRACT_NOT_USABLE",
    )
    assert pk(last["Fabrikam"]["run"]["id"]) == failed
    assert last["Adatum"] is None

    # partner B sees only its own run; A's are not found on any path
    b = side_api.as_(tenants.b.admin)
    hidden = await b.data(
        "query($id: ID!, $p: ID!) { invoiceSyncRun(id: $id) { id } node(id: $id) { id } "
        "invoiceSyncRuns(programId: $p) { totalCount edges { node { id } } } "
        "invoiceSyncOverview(programId: $p) { lastRun { id } inProgress } }",
        {"id": gid("InvoiceSyncRun", failed), "p": setup.program},
    )
    assert hidden["invoiceSyncRun"] is None and hidden["node"] is None
    assert [pk(e["node"]["id"]) for e in hidden["invoiceSyncRuns"]["edges"]] == [b_run]
    assert hidden["invoiceSyncRuns"]["totalCount"] == 1
    assert pk(hidden["invoiceSyncOverview"]["lastRun"]["id"]) == b_run
    assert hidden["invoiceSyncOverview"]["inProgress"] is False


async def test_an_empty_history_has_no_last_run(
    side_api: GraphQLClient, tenants: Tenants, setup: Setup
) -> None:
    data = await side_api.as_(tenants.a.admin).data(OVERVIEW, {"p": setup.program})

    assert data["invoiceSyncOverview"] == {
        "lastSuccessfulAt": None,
        "inProgress": False,
        "errors": 0,
        "warnings": 0,
        "lastRun": None,
    }


async def test_a_manual_sync_requests_the_latest_or_the_given_invoice_once(
    side_api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    setup: Setup,
    sync_engine: Engine,
    psa_side: PsaSide,
) -> None:
    a = side_api.as_(tenants.a.admin)
    program = pk(setup.program)
    none_yet = await a.data(SYNC, {"input": {"programId": setup.program}})
    october = add_invoice(sync_engine, tenants.a.id, program, month=10)
    november = add_invoice(sync_engine, tenants.a.id, program, month=11)
    b_invoice = add_invoice(sync_engine, tenants.b.id, program, month=11)

    latest = await a.data(SYNC, {"input": {"programId": setup.program}})
    given = await a.data(
        SYNC, {"input": {"programId": setup.program, "invoiceId": gid("Invoice", october)}}
    )
    foreign = await a.data(
        SYNC, {"input": {"programId": setup.program, "invoiceId": gid("Invoice", b_invoice)}}
    )
    other_program = await create_program(client)
    await program_sync(side_api, tenants.a.admin, other_program, enabled=False, side=psa_side)
    off = await a.data(SYNC, {"input": {"programId": other_program}})
    member = await side_api.as_(tenants.a.member).post(
        SYNC, {"input": {"programId": setup.program}}
    )

    assert [(e["field"], e["code"]) for e in none_yet["syncInvoices"]["errors"]] == [
        ("input.programId", "NOT_FOUND")
    ]
    assert latest["syncInvoices"]["requested"] is True
    assert pk(latest["syncInvoices"]["invoice"]["id"]) == november
    assert pk(given["syncInvoices"]["invoice"]["id"]) == october
    assert [(e["field"], e["code"]) for e in foreign["syncInvoices"]["errors"]] == [
        ("input.invoiceId", "NOT_FOUND")
    ]
    assert [e["code"] for e in off["syncInvoices"]["errors"]] == ["NOT_ALLOWED"]
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    events = invoice_sync_events(sync_engine)
    assert [(e["invoice_id"], e["trigger"], e["customer_id"]) for e in events] == [
        (november, "MANUAL", None),
        (october, "MANUAL", None),
    ]
    assert {(e["partner_id"], e["program_id"]) for e in events} == {(tenants.a.id, program)}


async def test_the_request_budget_in_use_shows_every_counted_request(
    side_api: GraphQLClient, tenants: Tenants, psa_side: PsaSide
) -> None:
    # Autotask's budget is its published one (requests per hour per database, less a margin);
    # ConnectWise publishes none, and Prism keeps below the 1,000 a minute its guide warns of.
    connectwise = isinstance(psa_side, ConnectWiseSide)
    kind = psa_side.kind.name
    a = side_api.as_(tenants.a.admin)
    budget = (
        "query($psa: Psa!) { psaConnection(psa: $psa) {"
        " requestBudget { used limit remaining windowSeconds } } }"
    )
    await connect(side_api, tenants.a.admin, psa_side)
    log = psa_side.cw.sim.request_log if connectwise else psa_side.handle.sim.request_log
    # Autotask's zone lookup and ConnectWise's companyinfo are asked before signing in
    unsigned = "companyinfo" if connectwise else "ZoneInformation"

    before = (await a.data(budget, {"psa": kind}))["psaConnection"]["requestBudget"]
    log.clear()
    await a.data(
        "query($psa: Psa!) { psaBillingCodes(psa: $psa) { id }"
        " psaCompanies(psa: $psa) { edges { node { id } } } }",
        {"psa": kind},
    )
    counted = [p for _, p, _ in log if unsigned not in p]
    after = (await a.data(budget, {"psa": kind}))["psaConnection"]["requestBudget"]

    assert (after["limit"], after["windowSeconds"]) == ((900, 60) if connectwise else (9000, 3600))
    assert counted and after["used"] - before["used"] == len(counted)
    assert after["remaining"] == after["limit"] - after["used"]
    none = await side_api.as_(tenants.b.admin).data(budget, {"psa": kind})
    assert none["psaConnection"] is None


def test_the_budget_read_counts_what_the_limiter_counted_and_spends_nothing() -> None:
    backend = StubBackend()  # type: ignore[no-untyped-call]
    limiter = DramatiqLimiter(backend, database_key=lambda: "db-1", integration="x")
    for _ in range(3):
        with limiter.acquire("Companies"):
            pass

    first = budget_use(backend, "db-1")
    second = budget_use(backend, "db-1")

    assert first is not None and (first.used, first.limit, first.remaining) == (3, 9000, 8997)
    assert second == first  # reading is not a request
    other = budget_use(backend, "another-db")
    assert other is not None and other.used == 0
