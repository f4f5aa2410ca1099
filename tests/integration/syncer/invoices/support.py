"""A partner with a program, customers mapped to Autotask contracts, invoices, and the
simulator's view of the units: the world the invoice sync tests are written in."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_client import RetryPolicy
from autotask_sim import SimHandle
from autotask_sim.errors import ApiFailure
from autotask_sim.faults import Fault
from autotask_sim.metadata import CONTRACTS, ID_START
from connectwise_client import Addition, ConnectWiseClient, Credentials, Reference
from connectwise_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
)
from connectwise_sim import Fault as CwFault
from connectwise_sim import SimHandle as ConnectWiseHandle
from connectwise_sim.entities import ADDITIONS
from connectwise_sim.seed import CUSTOMER_IDS as CW_CUSTOMER_IDS
from connectwise_sim.seed import SUBCATEGORY_ID
from prism_domain.catalogue import BillingTerm
from prism_domain.customers import CustomerStatus
from prism_domain.invoicing import LineKind
from prism_domain.sync import PsaKind, SyncTrigger
from prism_psa.connections import PsaConfig
from prism_psa.connectwise import ConnectWisePsa
from prism_psa.port import NewAdjustment, PsaError
from prism_psa.secrets import CredentialCipher
from prism_syncer.invoices.handlers import failure_notifier, mark_refused, psa_opener
from prism_syncer.invoices.notices import Links
from prism_syncer.invoices.sync import Hooks, InvoiceSync, start_run
from prism_syncer.products.handlers import run_product_sync
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.customers import Customer
from prism_tables.subscriptions import Subscription
from prism_tables.sync.connections import CustomerMapping, ProgramSyncSettings, PsaConnection
from prism_tables.sync.invoices import InvoiceSyncRun, InvoiceSyncRunItem
from prism_tables.sync.products import ProductServiceLink
from tests.support.connectwise import Clock, ConnectWise
from tests.support.psa import (
    TEST_SECRET_KEY,
    add_partner,
    add_product,
    add_program,
    configure,
    connect,
    psa_config,
)

NOV = date(2026, 11, 1)


class AutotaskSide:
    """The world's PSA when it is Autotask: the simulator's back door, as a person in
    Autotask's UI changes things, and its request log."""

    kind = PsaKind.AUTOTASK
    exact_writes = True  # one adjustment POST per change
    writes_per_decrease = 1

    def __init__(self, handle: SimHandle) -> None:
        self.handle = handle

    def config(self) -> PsaConfig:
        return psa_config(self.handle)

    def connect(self, engine: Engine, partner: int, program: int) -> None:
        connect(engine, partner)
        configure(engine, partner, program)

    def mapped_company(self) -> tuple[int, str]:
        return 175, "Contoso Pty Ltd"

    def add_contract(self, *, start: date, end: date | None) -> int:
        sim = self.handle.sim
        with sim.store.transaction():
            record = sim.rules.blank(CONTRACTS)
            contract_id = sim.store.next_id(CONTRACTS, ID_START[CONTRACTS])
            record.update(
                {
                    "id": contract_id,
                    "companyID": 175,
                    "contractName": f"Recurring {contract_id}",
                    "contractNumber": f"K-{contract_id}",
                    "contractType": 7,
                    "contractCategory": 1,
                    "contractPeriodType": 1,
                    "status": 1,
                    "startDate": f"{start.isoformat()}T00:00:00",
                    "endDate": f"{(end or date(2030, 12, 31)).isoformat()}T00:00:00",
                    "isDefaultContract": False,
                }
            )
            sim.store.put(CONTRACTS, record)
        return contract_id

    def contract_service(self, contract: int, service: int) -> int | None:
        for cs in self.handle.sim.records("ContractServices"):
            if cs["contractID"] == contract and cs["serviceID"] == service:
                return int(cs["id"])
        return None

    def units_on(self, contract: int, service: int, day: date) -> int:
        """The row with the latest start on or before `day` (a row split by an adjustment
        may end on the change day itself)."""
        cs = self.contract_service(contract, service)
        if cs is None:
            return 0
        rows = sorted(self.handle.sim.units(cs), key=lambda r: str(r["startDate"]))
        text = day.isoformat()
        covering = [r for r in rows if str(r["startDate"])[:10] <= text <= str(r["endDate"])[:10]]
        return int(covering[-1]["units"]) if covering else 0

    def edit_units(self, contract: int, service: int, change: int, day: date) -> None:
        """A person adjusts the units by hand (refused below zero, as Autotask does)."""
        with contextlib.suppress(ApiFailure):
            self.handle.sim.adjust_units(contract, service, change, day.isoformat())

    def remove_service(self, contract: int, service: int) -> None:
        cs = self.contract_service(contract, service)
        if cs is not None:
            self.handle.sim.delete("ContractServices", cs)

    def clear_log(self) -> None:
        self.handle.sim.request_log.clear()

    def writes(self, contract: int) -> int:
        """Adjustments Prism's requests made (a lost answer's too: it landed)."""
        return sum(
            1
            for method, path, status in self.handle.sim.request_log
            if method == "POST"
            and path.lower().endswith("serviceadjustments")
            and status in (200, 502)
            and f"/{contract}/" in path
        )

    def adjustments(self) -> list[dict[str, Any]]:
        return list(self.handle.sim.records("ContractServiceAdjustments"))

    def contract_writes(self) -> list[str]:
        """Everything sent to a contract (not the product sync's writes)."""
        return [
            f"{method} {path}"
            for method, path, _ in self.handle.sim.request_log
            if method in ("POST", "PATCH", "PUT")
            and not path.lower().endswith("/query")
            and "/contracts/" in path.lower()
        ]

    def lose_next_write_answer(self) -> None:
        """The next adjustment lands in Autotask, and its answer is lost (a 502)."""
        self.handle.sim.add_fault(
            Fault("lost_response", method="POST", path="ServiceAdjustments", status=502)
        )

    def clear_faults(self) -> None:
        self.handle.sim.faults.clear()


class ConnectWiseSide:
    """The world's PSA when it is ConnectWise: the simulator served on loopback (the syncer
    opens it through the stored connection, as in production), and a person's hand edits
    made through its API (they are not the sync's writes)."""

    kind = PsaKind.CONNECTWISE
    exact_writes = False  # a decrease is cancel-and-add: one change, several writes
    writes_per_decrease = 2  # the running addition cancelled, the rest added back

    def __init__(self, handle: ConnectWiseHandle | None, cw: ConnectWise | None = None) -> None:
        """On a simulator served on loopback (`handle`), or on one in this process (`cw`,
        whose adapter the test hands the syncer itself)."""
        self.handle = handle
        if cw is None:
            assert handle is not None
            client = ConnectWiseClient(
                Credentials(
                    DEFAULT_COMPANY_ID, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY, DEFAULT_CLIENT_ID
                ),
                site=handle.url,
            )
            cw = ConnectWise(handle.sim, ConnectWisePsa(client), Clock())
        self.cw = cw
        self._hand_writes: dict[int, int] = {}
        self._agreements: set[int] = set()

    @property
    def url(self) -> str:
        assert self.handle is not None, "a simulator served on loopback"
        return self.handle.url

    def config(self) -> PsaConfig:
        return PsaConfig(
            CredentialCipher(TEST_SECRET_KEY),
            connectwise_client_id=DEFAULT_CLIENT_ID,
            connectwise_allow_http_loopback=True,
        )

    def connect(self, engine: Engine, partner: int, program: int) -> None:
        cipher = CredentialCipher(TEST_SECRET_KEY)
        with Session(engine) as session, session.begin():
            session.add(
                PsaConnection(
                    partner_id=partner,
                    psa=PsaKind.CONNECTWISE.value,
                    username=DEFAULT_COMPANY_ID,
                    site=self.url,
                    secret_encrypted=cipher.encrypt(DEFAULT_PRIVATE_KEY),
                    integration_code_encrypted=cipher.encrypt(DEFAULT_PUBLIC_KEY),
                    status="OK",
                )
            )
        configure(engine, partner, program, billing_code_id=SUBCATEGORY_ID)
        with Session(engine) as session, session.begin():
            row = session.scalar(
                select(ProgramSyncSettings).where(
                    ProgramSyncSettings.partner_id == partner,
                    ProgramSyncSettings.program_id == program,
                )
            )
            assert row is not None
            row.psa = PsaKind.CONNECTWISE.value

    def mapped_company(self) -> tuple[int, str]:
        return CW_CUSTOMER_IDS[0], "Acme Pty Ltd"

    def add_contract(self, *, start: date, end: date | None) -> int:
        agreement = self.cw.add_agreement(start=start, end=end, company=CW_CUSTOMER_IDS[0])
        self._agreements.add(agreement)
        return agreement

    def contract_service(self, contract: int, service: int) -> int | None:
        ids = [int(a["id"]) for a in self.cw.additions(contract, service)]
        return min(ids) if ids else None

    def units_on(self, contract: int, service: int, day: date) -> int:
        return self.cw.units_on(contract, service, day)

    def _by_hand(self, contract: int, work: Callable[[], object]) -> None:
        before = self._contract_writes(contract)
        work()
        self._hand_writes[contract] = self._hand_writes.get(contract, 0) + (
            self._contract_writes(contract) - before
        )

    def edit_units(self, contract: int, service: int, change: int, day: date) -> None:
        """A person adds units from `day` on, or ends running additions on `day` and adds
        back what remains (ConnectWise keeps billed additions as they were)."""
        if change > 0:
            self._by_hand(
                contract,
                lambda: self.cw.psa.client.agreements.additions(contract).create(
                    Addition(
                        product=Reference.to(service),
                        quantity=Decimal(change),
                        bill_customer="Billable",
                        effective_date=day,
                    )
                ),
            )
            return
        if self.units_on(contract, service, day) + change < 0:
            return  # there are not that many units to take off
        with contextlib.suppress(PsaError):
            self._by_hand(
                contract,
                lambda: self.cw.psa.create_adjustment(
                    NewAdjustment(
                        contract_id=contract,
                        service_id=service,
                        contract_service_id=self.contract_service(contract, service),
                        effective=day,
                        unit_change=change,
                        unit_price=Decimal("36.00"),
                        unit_cost=Decimal("32.40"),
                    )
                ),
            )

    def remove_service(self, contract: int, service: int) -> None:
        """A person deletes every addition of the product from the agreement."""
        additions = self.cw.psa.client.agreements.additions(contract)
        for addition in self.cw.additions(contract, service):
            self._by_hand(contract, functools.partial(additions.delete, int(addition["id"])))

    def clear_log(self) -> None:
        self.cw.sim.request_log.clear()
        self._hand_writes.clear()

    def _contract_writes(self, contract: int) -> int:
        return sum(
            1
            for method, path, status in self.cw.sim.request_log
            if method in ("POST", "PATCH", "PUT", "DELETE")
            and f"/agreements/{contract}/additions" in path
            and 200 <= status < 300
        )

    def writes(self, contract: int) -> int:
        """The sync's writes to the agreement's additions that ConnectWise applied."""
        return self._contract_writes(contract) - self._hand_writes.get(contract, 0)

    def adjustments(self) -> list[dict[str, Any]]:
        return [a for a in self.cw.sim.records(ADDITIONS) if a["agreementId"] in self._agreements]

    def contract_writes(self) -> list[str]:
        """Everything sent to an agreement's additions (not the product sync's writes)."""
        return [
            f"{method} {path}"
            for method, path, _ in self.cw.sim.request_log
            if method in ("POST", "PATCH", "PUT", "DELETE") and "/additions" in path
        ]

    def lose_next_write_answer(self) -> None:
        """The next addition's answer is lost: the simulator answers 502 without applying it
        (it cannot apply and then lose the answer)."""
        self.cw.sim.add_fault(CwFault(502, method="POST", path="/additions"))

    def clear_faults(self) -> None:
        self.cw.sim.clear_faults()


PsaSide = AutotaskSide | ConnectWiseSide


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
    answer is lost (`lost_answer`: Autotask applied it, the worker heard a 502)."""
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
