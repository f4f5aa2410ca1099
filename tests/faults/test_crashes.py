"""What survives a crash: the production processes killed, stopped and restarted mid-flow
(issue 15; S10, ADR-2). Afterwards no event is lost or handled twice (every outbox row is
published, the worker's inbox holds exactly the outbox's event ids) and Autotask holds, day
by day, what the invoices say.

PostgreSQL and a `redis-server` binary are needed: `scripts/test.sh` runs these as a stage of
their own (`-m faults`) when they are there, and CI requires them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from prism_graph.database import Database
from prism_platform.db import make_async_engine
from prism_platform.migrate import upgrade
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.customers import Customer
from prism_tables.outbox import OutboxEvent
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductSyncRun
from tests.faults.system import System, running_system
from tests.integration.sync.mapping_support import (
    CONTOSO,
    CONTOSO_CONTRACT,
    FABRIKAM,
    FABRIKAM_CONTRACT,
    add_customer,
    connect,
    map_to_contract,
    program_sync,
)
from tests.support.backends import postgres_requested, scratch_database
from tests.support.catalogue import create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, make_tenants
from tests.support.psa import invoiced_by_day, month_of

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.slow]

ADJUSTMENTS = r"/ServiceAdjustments$"


@dataclass
class World:
    system: System
    tenants: Tenants


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    required = os.environ.get("PRISM_REQUIRE_SERVICES") == "1"
    missing = None
    if postgres_requested() is None:
        missing = "PostgreSQL (DATABASE_URL)"
    elif shutil.which("redis-server") is None:
        missing = "a redis-server binary (apt-get install redis-server)"
    if missing:
        if required:
            pytest.fail(f"the fault tests need {missing}")
        pytest.skip(f"the fault tests need {missing}")
    folder = tmp_path_factory.mktemp("faults")
    with scratch_database(folder) as url:
        made: list[Tenants] = []

        def prepare() -> None:
            upgrade(url)
            made.append(asyncio.run(_tenants(url)))

        with running_system(url, folder, prepare) as system:
            yield World(system, made[0])


async def _tenants(url: str) -> Tenants:
    database = Database(make_async_engine(url))
    try:
        return await make_tenants(database)
    finally:
        await database.engine.dispose()


@pytest.fixture
async def api(world: World) -> AsyncIterator[GraphQLClient]:
    """A client of the API process (a new connection per request: it may be killed)."""
    async with httpx.AsyncClient(base_url=world.system.base, timeout=30) as http:
        yield GraphQLClient(http)


@pytest.fixture(autouse=True)
def everything_running(world: World) -> Iterator[None]:
    """Each test starts, and leaves, every process up."""
    yield
    system = world.system
    if not system["redis"].running():
        system.start_redis()
    system.clear_faults()
    for name in ("relay", "worker"):
        if not system[name].running():
            system[name].start()
    if not system["graph"].running():
        system.start_api()


# -- given ------------------------------------------------------------------------------------


def last_month() -> tuple[date, date]:
    return month_of(datetime.now(UTC).date().replace(day=1) - timedelta(days=1))


@dataclass
class Billed:
    """A customer of partner A on two monthly licences through last month (one changed
    mid-month), mapped to a contract of the simulator (one customer per contract); its
    program's own products are in Autotask. `bill()` issues its program's invoice for last
    month."""

    program: str
    program_pk: int
    customer_pk: int
    contract: int
    skus: list[str]


async def a_synced_customer(
    world: World, api: GraphQLClient, company: int, contract: int
) -> Billed:
    tenants, system = world.tenants, world.system
    distributor, msp = api.as_(tenants.distributor.admin), api.as_(tenants.a.admin)
    if not _connected(system.engine, tenants.a.id):
        await connect(api, tenants.a.admin)
    program = await create_program(distributor, f"Program {uuid.uuid4().hex[:6]}", "AUD")
    skus = [f"FLT{uuid.uuid4().hex[:6].upper()}" for _ in range(2)]
    products = [await create_product(distributor, program, sku=sku) for sku in skus]
    await program_sync(api, tenants.a.admin, program, enabled=True)
    program_pk = _pk(program)
    await msp.data(
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested } }",
        {"p": program},
    )
    system.wait(
        lambda: _product_sync_status(system.engine, program_pk) == "SUCCESS",
        "the product sync",
    )
    customer = await add_customer(
        api,
        tenants.a.admin,
        program,
        f"Woodgrove {uuid.uuid4().hex[:6]}",
        tenant=f"woodgrove{uuid.uuid4().hex[:6]}.onmicrosoft.com",
    )
    await map_to_contract(msp, program, customer, company, contract)
    first, _ = last_month()
    subscriptions = []
    for product, quantity in zip(products, (10, 4), strict=True):
        created = await msp.data(
            "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
            " subscription { id } errors { code message } } }",
            {
                "input": {
                    "customerId": customer,
                    "productId": product,
                    "quantity": quantity,
                    "startDate": first.isoformat(),
                }
            },
        )
        assert created["createSubscription"]["errors"] == [], created
        subscriptions.append(created["createSubscription"]["subscription"]["id"])
    changed = await msp.data(
        "mutation($input: ChangeSubscriptionQuantityInput!) {"
        " changeSubscriptionQuantity(input: $input) { errors { code message } } }",
        {
            "input": {
                "id": subscriptions[0],
                "quantity": 13,
                "effectiveFrom": first.replace(day=12).isoformat(),
            }
        },
    )
    assert changed["changeSubscriptionQuantity"]["errors"] == []
    return Billed(program, program_pk, _pk(customer), contract, skus)


async def bill(api: GraphQLClient, world: World, billed: Billed) -> int:
    """The distributor bills last month: this program's invoice is issued (and synced)."""
    first, _ = last_month()
    issued = await api.as_(world.tenants.distributor.admin).data(
        "mutation($m: String!) { runBilling(input: { month: $m }) {"
        " issued { id } errors { message } } }",
        {"m": f"{first:%Y-%m}"},
    )
    assert issued["runBilling"]["errors"] == []
    with Session(world.system.engine) as session:
        invoice = session.scalar(
            select(Invoice.id).where(
                Invoice.program_id == billed.program_pk, Invoice.period_start == first
            )
        )
    assert invoice is not None, issued
    return int(invoice)


async def create_customers(api: GraphQLClient, world: World, prefix: str, count: int) -> None:
    for n in range(count):
        await add_customer(api, world.tenants.b.admin, None, f"{prefix} {n}")


# -- then -------------------------------------------------------------------------------------


def assert_psa_follows_the_invoice(world: World, billed: Billed, invoice_id: int) -> None:
    """Every day of last month, Autotask bills each licence's units as the invoice does: no
    adjustment is missing, none was applied twice."""
    system, (first, last) = world.system, last_month()
    with Session(system.engine) as session:
        lines = session.execute(
            select(
                InvoiceLine.sku,
                InvoiceLine.period_start,
                InvoiceLine.period_end,
                InvoiceLine.quantity,
            ).where(
                InvoiceLine.invoice_id == invoice_id, InvoiceLine.customer_id == billed.customer_pk
            )
        ).all()
    for sku in billed.skus:
        want = invoiced_by_day([(s, e, q) for k, s, e, q in lines if k == sku], first, last)
        assert set(want) != {0}, lines
        assert system.units(billed.contract, f"PC_{sku}", first, last) == want, sku


def invoice_runs(engine: Engine, invoice_id: int) -> list[str]:
    """The statuses of the whole-invoice runs of the invoice."""
    with Session(engine) as session:
        return list(
            session.scalars(
                select(InvoiceSyncRun.status)
                .where(
                    InvoiceSyncRun.invoice_id == invoice_id, InvoiceSyncRun.customer_id.is_(None)
                )
                .order_by(InvoiceSyncRun.id)
            )
        )


def finished(engine: Engine, invoice_id: int) -> bool:
    runs = invoice_runs(engine, invoice_id)
    return bool(runs) and all(r not in ("PENDING", "RUNNING") for r in runs)


def assert_delivered_once(system: System) -> None:
    """Every event reaches the worker's handler exactly once: all published, the inbox holds
    exactly the outbox's event ids (one row each: its primary key)."""
    system.wait(system.delivered_once, "every event published and handled", timeout=45)


def customers_named(engine: Engine, prefix: str) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(Customer.id).where(Customer.name.startswith(prefix))))


def created_events(engine: Engine, customer_ids: list[int]) -> dict[int, list[str]]:
    """customer id -> the event ids of its `customer.created` events."""
    found: dict[int, list[str]] = {c: [] for c in customer_ids}
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent.aggregate_id, OutboxEvent.event_id).where(
                OutboxEvent.type == "customer.created"
            )
        ).all()
    for aggregate, event in rows:
        if int(aggregate) in found:
            found[int(aggregate)].append(event)
    return found


def unpublished(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
            )
            or 0
        )


# -- the faults -------------------------------------------------------------------------------


async def test_the_relay_stopped_while_mutations_commit_loses_nothing(
    world: World, api: GraphQLClient
) -> None:
    system, prefix = world.system, f"Relay {uuid.uuid4().hex[:6]}"

    async def stream(n: int) -> None:
        await create_customers(api, world, f"{prefix} s{n}", 5)

    writing = asyncio.gather(*(stream(n) for n in range(3)))
    # kill -9 the relay while the mutations commit (some before, some after).
    await _until(lambda: len(customers_named(system.engine, prefix)) >= 4, "4 customers", system)
    system["relay"].kill()
    await writing
    await create_customers(api, world, f"{prefix} after", 2)
    assert unpublished(system.engine) >= 2  # committed with no relay running: waiting

    system["relay"].start()

    assert_delivered_once(system)
    customers = customers_named(system.engine, prefix)
    assert len(customers) == 17
    events = created_events(system.engine, customers)
    assert all(len(e) == 1 for e in events.values()), events


async def test_killing_the_api_mid_mutation_leaves_no_half_written_change(
    world: World, api: GraphQLClient
) -> None:
    """One of two API processes is killed with mutations inside their transactions; the
    other serves on."""
    system, prefix = world.system, f"Killed {uuid.uuid4().hex[:6]}"
    partner_b = world.tenants.b.id
    replica = GraphQLClient(httpx.AsyncClient(base_url=system.replica, timeout=30))
    with system.engine.connect() as holder:
        # Hold partner B's row, so that each creation waits inside its transaction (its
        # insert's foreign key check) until the API is gone.
        holder.execute(
            text("SELECT id FROM organisations WHERE id = :id FOR UPDATE"), {"id": partner_b}
        )
        in_flight = [
            asyncio.ensure_future(
                add_customer(replica, world.tenants.b.admin, None, f"{prefix} {n}")
            )
            for n in range(4)
        ]
        await _until(lambda: _waiting_on_locks(system.engine) >= 4, "4 mutations mid-way", system)
        system["graph-2"].kill()
        holder.rollback()
    outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
    await replica.http.aclose()
    assert all(isinstance(o, httpx.TransportError) for o in outcomes), outcomes

    # Their transactions died with the API: no customer and no event of them exists.
    await _until(lambda: _waiting_on_locks(system.engine) == 0, "the dead API's sessions", system)
    assert customers_named(system.engine, prefix) == []
    await create_customers(api, world, prefix, 1)  # through the API process still up

    assert_delivered_once(system)
    (created,) = customers_named(system.engine, prefix)
    assert [len(e) for e in created_events(system.engine, [created]).values()] == [1]


async def test_redis_restarted_mid_flow_loses_no_queued_event(
    world: World, api: GraphQLClient
) -> None:
    system, prefix = world.system, f"Redis {uuid.uuid4().hex[:6]}"
    billed = await a_synced_customer(world, api, CONTOSO, CONTOSO_CONTRACT)
    # Autotask answers slowly: the worker's one thread is held on the sync's first write, so
    # the events after it wait in Redis.
    system.add_fault(kind="latency", method="POST", path=ADJUSTMENTS, times=None, hang=True)
    invoice = await bill(api, world, billed)
    await _until(lambda: system.fault_hits() >= 1, "the sync's first adjustment", system)
    await create_customers(api, world, f"{prefix} queued", 3)
    await _until(lambda: system.queued()[0] >= 1, "events waiting in Redis", system)

    system["redis"].stop()
    await create_customers(api, world, f"{prefix} outage", 3)  # the API needs no Redis
    await _until(lambda: _relay_failed(system.engine), "the relay to meet the outage", system)
    system.start_redis()
    system.clear_faults()  # the held write goes through

    assert_delivered_once(system)
    system.wait(lambda: finished(system.engine, invoice), "the invoice sync")
    assert invoice_runs(system.engine, invoice) == ["SUCCESS"]
    assert_psa_follows_the_invoice(world, billed, invoice)
    customers = customers_named(system.engine, prefix)
    assert len(customers) == 6
    assert all(len(e) == 1 for e in created_events(system.engine, customers).values())


async def test_killing_the_worker_during_an_invoice_sync_applies_every_change_once(
    world: World, api: GraphQLClient
) -> None:
    system, prefix = world.system, f"Worker {uuid.uuid4().hex[:6]}"
    billed = await a_synced_customer(world, api, FABRIKAM, FABRIKAM_CONTRACT)
    # The worst moment: Autotask has applied the first adjustment, its answer never comes.
    system.add_fault(kind="lost_response", method="POST", path=ADJUSTMENTS, times=None, hang=True)
    invoice = await bill(api, world, billed)
    await _until(lambda: system.fault_hits() >= 1, "the sync's first adjustment", system)
    # Events the worker has fetched but not handled: only Redis knows they are its.
    await create_customers(api, world, prefix, 3)
    # The invoice's event and one fetched after it (a one-thread worker prefetches two).
    await _until(lambda: system.queued()[1] >= 2, "events held by the worker", system)

    system["worker"].kill()
    system.clear_faults()
    assert invoice_runs(system.engine, invoice) == ["RUNNING"]
    assert _adjustments(system, billed.contract) >= 1  # the write whose answer was lost
    system["worker"].start()

    # Redis hands the dead worker's messages to the new one; the safety check resumes the
    # run, whose jobs the dead worker's expired leases free.
    assert_delivered_once(system)
    system.wait(lambda: finished(system.engine, invoice), "the resumed invoice sync", timeout=45)
    assert invoice_runs(system.engine, invoice) == ["SUCCESS"]
    assert_psa_follows_the_invoice(world, billed, invoice)
    customers = customers_named(system.engine, prefix)
    assert all(len(e) == 1 for e in created_events(system.engine, customers).values())


# -- helpers ----------------------------------------------------------------------------------


async def _until(
    condition: Callable[[], bool], what: str, system: System, within: float = 30
) -> None:
    """Wait (without blocking the event loop: requests may be in flight) for `condition`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}\n{system.logs()}")
        await asyncio.sleep(0.02)


def _pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


def _connected(engine: Engine, partner_id: int) -> bool:
    with engine.connect() as conn:
        found = conn.scalar(
            text("SELECT count(*) FROM sync_psa_connections WHERE partner_id = :p"),
            {"p": partner_id},
        )
    return bool(found)


def _product_sync_status(engine: Engine, program_id: int) -> str | None:
    with Session(engine) as session:
        status: str | None = session.scalar(
            select(ProductSyncRun.status)
            .where(ProductSyncRun.program_id == program_id)
            .order_by(ProductSyncRun.id.desc())
            .limit(1)
        )
    return status


def _waiting_on_locks(engine: Engine) -> int:
    with engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


def _adjustments(system: System, contract_id: int) -> int:
    return sum(
        1
        for a in system.sim_records("ContractServiceAdjustments")
        if a["contractID"] == contract_id
    )


def _relay_failed(engine: Engine) -> bool:
    with Session(engine) as session:
        failed = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None), OutboxEvent.last_error.is_not(None))
        )
    return bool(failed)
