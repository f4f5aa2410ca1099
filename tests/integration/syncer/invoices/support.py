"""A partner with a program, customers mapped to Autotask contracts, invoices, and the
simulator's view of the units: the world the invoice sync tests are written in."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_client import RetryPolicy
from autotask_sim import SimHandle
from autotask_sim.metadata import CONTRACTS
from prism_domain.catalogue import BillingTerm
from prism_domain.customers import CustomerStatus
from prism_domain.invoicing import LineKind
from prism_domain.sync import SyncTrigger
from prism_psa.port import NewAdjustment
from prism_syncer.invoices.handlers import failure_notifier, mark_refused, psa_opener
from prism_syncer.invoices.notices import Links
from prism_syncer.invoices.sync import Hooks, InvoiceSync, start_run
from prism_syncer.products.handlers import run_product_sync
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.customers import Customer
from prism_tables.subscriptions import Subscription
from prism_tables.sync.connections import CustomerMapping, ProgramSyncSettings
from prism_tables.sync.invoices import InvoiceSyncRun, InvoiceSyncRunItem
from prism_tables.sync.products import ProductServiceLink
from tests.support.psa import (
    add_partner,
    add_product,
    add_program,
)
from tests.support.sides import AutotaskSide, ConnectWiseSide, PsaSide

NOV = date(2026, 11, 1)


def month_end(start: date) -> date:
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


@dataclass
class Line:
    customer: int
    sku: str
    quantity: str | int
    start: date
    end: date
    subscription: int | None = None
    kind: LineKind = LineKind.SUBSCRIPTION
    term: BillingTerm | None = BillingTerm.MONTHLY
    price: str = "36.00"
    cost: str = "32.40"


@dataclass
class World:
    engine: Engine
    autotask: SimHandle | None
    partner: int = 0
    program: int = 0
    products: dict[str, int] = field(default_factory=dict)
    contracts: dict[int, int] = field(default_factory=dict)  # customer -> contract
    subscriptions: dict[tuple[int, str], int] = field(default_factory=dict)
    #: The PSA the program syncs to; Autotask (`autotask`) unless given.
    psa: PsaSide | None = None

    @property
    def side(self) -> PsaSide:
        if self.psa is None:
            assert self.autotask is not None, "a world needs a PSA"
            self.psa = AutotaskSide(self.autotask)
        return self.psa

    def side_autotask(self) -> SimHandle:
        assert self.autotask is not None, "an Autotask world"
        return self.autotask

    @classmethod
    def create(
        cls,
        engine: Engine,
        autotask: SimHandle | PsaSide,
        skus: Iterable[str] = ("M365-E3",),
    ) -> World:
        if isinstance(autotask, AutotaskSide | ConnectWiseSide):
            world = cls(engine, autotask.handle if isinstance(autotask, AutotaskSide) else None)
            world.psa = autotask
        else:
            world = cls(engine, autotask)
        world.partner = add_partner(engine)
        world.program = add_program(engine)
        world.side.connect(engine, world.partner, world.program)
        suffix = uuid.uuid4().hex[:6].upper()
        for sku in skus:
            world.products[sku] = add_product(engine, world.program, f"{sku}-{suffix}")
        world.product_sync()
        world.emails(["ops@partner.example"])
        return world

    def sku(self, short: str) -> str:
        with Session(self.engine) as session:
            return str(
                session.scalar(
                    select(ProductServiceLink.sku).where(
                        ProductServiceLink.product_id == self.products[short]
                    )
                )
            )

    def service_id(self, short: str) -> int:
        with Session(self.engine) as session:
            return int(
                session.scalar(
                    select(ProductServiceLink.service_id).where(
                        ProductServiceLink.product_id == self.products[short]
                    )
                )
                or 0
            )

    def product_sync(self) -> None:
        with Session(self.engine) as session, session.begin():
            run_product_sync(
                session, self.side.config(), self.partner, self.program, SyncTrigger.MANUAL
            )

    def settings(self, **values: Any) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(ProgramSyncSettings).where(
                    ProgramSyncSettings.partner_id == self.partner,
                    ProgramSyncSettings.program_id == self.program,
                )
            )
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)

    def emails(self, addresses: list[str]) -> None:
        self.settings(notification_emails=addresses)

    def add_contract(
        self,
        *,
        start: date = date(2025, 1, 1),
        end: date = date(2030, 12, 31),
        status: int = 1,
        contract_type: int = 7,
    ) -> int:
        """A contract as a person would make it in the PSA's UI (`status` and
        `contract_type` are Autotask's: an inactive or non-recurring one)."""
        if status == 1 and contract_type == 7:
            return self.side.add_contract(start=start, end=end)
        assert isinstance(self.side, AutotaskSide), "inactive or other contract types: Autotask"
        contract_id = self.side.add_contract(start=start, end=end)
        self.side.handle.sim.store.put(
            CONTRACTS,
            {
                **(self.side.handle.sim.record(CONTRACTS, contract_id) or {}),
                "status": status,
                "contractType": contract_type,
            },
        )
        return contract_id

    def customer(self, *, contract: int | None = None, enabled: bool = True) -> int:
        contract_id = contract if contract is not None else self.add_contract()
        with Session(self.engine) as session, session.begin():
            name = f"Customer {uuid.uuid4().hex[:8]}"
            customer = Customer(
                owner_id=self.partner,
                name=name,
                name_key=name.casefold(),
                status=CustomerStatus.ACTIVE,
            )
            session.add(customer)
            session.flush()
            session.add(
                CustomerMapping(
                    partner_id=self.partner,
                    program_id=self.program,
                    customer_id=customer.id,
                    psa=self.side.kind.value,
                    company_id=self.side.mapped_company()[0],
                    company_name=self.side.mapped_company()[1],
                    contract_id=contract_id,
                    contract_name=f"Recurring {contract_id}",
                    sync_enabled=enabled,
                )
            )
            self.contracts[customer.id] = contract_id
            return customer.id

    def map_customer(self, customer: int, **values: Any) -> None:
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(CustomerMapping).where(CustomerMapping.customer_id == customer)
            )
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)

    def subscription(self, customer: int, short: str, term: BillingTerm) -> int:
        key = (customer, short)
        if key not in self.subscriptions:
            with Session(self.engine) as session, session.begin():
                sub = Subscription(
                    customer_id=customer,
                    product_id=self.products[short],
                    sku=self.sku(short),
                    billing_term=term,
                    start_date=date(2026, 1, 1),
                    quantity=1,
                )
                session.add(sub)
                session.flush()
                self.subscriptions[key] = sub.id
        return self.subscriptions[key]

    def invoice(self, start: date, lines: list[Line]) -> int:
        end = month_end(start)
        prepared = []
        for line in lines:
            sub = line.subscription
            if (
                sub is None
                and line.sku in self.products
                and line.kind in (LineKind.SUBSCRIPTION, LineKind.USAGE)
            ):
                sub = self.subscription(line.customer, line.sku, line.term or BillingTerm.MONTHLY)
            sku = self.sku(line.sku) if line.sku in self.products else line.sku
            prepared.append((line, sub if line.kind is not LineKind.ADJUSTMENT else None, sku))
        with Session(self.engine) as session, session.begin():
            invoice = Invoice(
                key=f"{self.partner}:{self.program}:{start:%Y-%m}:{uuid.uuid4().hex[:6]}",
                partner_id=self.partner,
                program_id=self.program,
                period_start=start,
                period_end=end,
                currency="AUD",
                total=Decimal(0),
                issued_at=datetime.now(UTC),
            )
            session.add(invoice)
            session.flush()
            for position, (line, sub, sku) in enumerate(prepared):
                session.add(
                    InvoiceLine(
                        invoice_id=invoice.id,
                        position=position,
                        customer_id=line.customer,
                        subscription_id=sub,
                        sku=sku,
                        kind=line.kind,
                        billing_term=line.term,
                        period_start=line.start,
                        period_end=line.end,
                        quantity=Decimal(str(line.quantity)),
                        unit_cost=Decimal(line.cost),
                        unit_price=Decimal(line.price),
                        amount=Decimal(0),
                    )
                )
            return invoice.id

    # -- running ---------------------------------------------------------------------------

    def syncer(self, **kw: Any) -> InvoiceSync:
        kw.setdefault("hooks", Hooks())
        config = self.side.config()
        config.retry = RetryPolicy(sleep=lambda _: None)  # retried reads without waiting
        return InvoiceSync(
            engine=self.engine,
            open_psa=psa_opener(self.engine, config),
            on_unauthorized=mark_refused(self.engine),
            notify_failure=failure_notifier(Links()),
            **kw,
        )

    def start(
        self,
        invoice_id: int,
        trigger: SyncTrigger = SyncTrigger.INVOICE_ISSUED,
        customer: int | None = None,
    ) -> int:
        with Session(self.engine) as session, session.begin():
            return start_run(
                session,
                partner_id=self.partner,
                program_id=self.program,
                trigger=trigger.value,
                invoice_id=invoice_id,
                customer_id=customer,
            ).id

    def sync(self, invoice_id: int, **kw: Any) -> InvoiceSyncRun:
        run_id = self.start(invoice_id)
        self.syncer(**kw).drive(run_id)
        return self.run(run_id)

    def run(self, run_id: int) -> InvoiceSyncRun:
        with Session(self.engine) as session:
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None
            session.expunge(run)
            return run

    def items(self, run_id: int) -> list[InvoiceSyncRunItem]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(InvoiceSyncRunItem)
                .where(InvoiceSyncRunItem.run_id == run_id)
                .order_by(InvoiceSyncRunItem.id)
            ).all()
            session.expunge_all()
            return list(rows)

    # -- the simulator's side ----------------------------------------------------------------

    def contract_service(self, customer: int, short: str) -> int | None:
        return self.side.contract_service(self.contracts[customer], self.service_id(short))

    def units_on(self, customer: int, short: str, day: date) -> int:
        """What the PSA bills on `day` (Autotask: the row with the latest start on or before
        it; ConnectWise: the additions in effect, added up)."""
        return self.side.units_on(self.contracts[customer], self.service_id(short), day)

    def units_between(self, customer: int, short: str, start: date, end: date) -> list[int]:
        days = (end - start).days + 1
        return [self.units_on(customer, short, start + timedelta(days=i)) for i in range(days)]

    def month_units(self, customer: int, short: str, start: date) -> list[int]:
        days = (month_end(start) - start).days + 1
        return [self.units_on(customer, short, start + timedelta(days=i)) for i in range(days)]

    def adjustments(self) -> list[dict[str, Any]]:
        """The unit changes the PSA holds: Autotask's adjustments, ConnectWise's additions on
        the world's agreements."""
        return self.side.adjustments()

    def writes(self) -> list[str]:
        """The invoice sync's writes: everything sent to a contract (not the product sync's)."""
        return self.side.contract_writes()


def expected(steps: list[tuple[int, int]], days: int = 30) -> list[int]:
    """Units per day from (first day offset, units) steps."""
    out = []
    for i in range(days):
        current = 0
        for offset, units in steps:
            if offset <= i:
                current = units
        out.append(current)
    return out


CRASH_POINTS = (None, "before_intent", "before_write", "after_write", "lost_answer")


class Crash(Exception):
    """A worker dying at a hook point."""


def crash_once(world: World, run_id: int, crash: str) -> None:
    """Drive a run that dies once at `crash` (a hook point), or whose first adjustment's
    answer is lost (`lost_answer`: the PSA applied it, the worker heard a 502)."""
    if crash == "lost_answer":
        world.side.lose_next_write_answer()
        world.syncer().drive(run_id)
        world.side.clear_faults()
        return
    fired: list[bool] = []

    def hook(_: NewAdjustment) -> None:
        if not fired:
            fired.append(True)
            raise Crash

    with contextlib.suppress(Crash):
        world.syncer(hooks=Hooks(**{crash: hook})).drive(run_id)
