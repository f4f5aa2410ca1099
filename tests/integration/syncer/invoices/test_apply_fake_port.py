"""The apply step against a fake PSA port (no simulator): which calls a run makes (N3: reads
batched per contract set, never per subscription; one write per change) and that a
re-sync with nothing changed writes nothing."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prism_domain.catalogue import BillingTerm
from prism_domain.customers import CustomerStatus
from prism_domain.invoicing import LineKind
from prism_psa.port import (
    NewAdjustment,
    PsaContract,
    PsaContractService,
    PsaUnavailable,
    UnitRow,
)
from prism_syncer.invoices.sync import InvoiceSync, start_run
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.customers import Customer
from prism_tables.sync.connections import CustomerMapping
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductServiceLink
from tests.support.psa import add_partner, add_product, add_program, configure

pytestmark = pytest.mark.integration

NOV, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


class FakePsa:
    """Contracts, their services and unit changes, as a PSA keeps them."""

    def __init__(self, contract_ids: Iterable[int]) -> None:
        self.contracts = {
            c: PsaContract(c, True, True, date(2026, 1, 1), date(2027, 12, 31))
            for c in contract_ids
        }
        self.services: dict[tuple[int, int], int] = {}
        self.changes: dict[int, list[tuple[date, int]]] = defaultdict(list)
        self.calls: list[str] = []
        self.lose_next_answer = False

    def contracts_by_id(self, ids: Iterable[int]) -> dict[int, PsaContract]:
        self.calls.append("read contracts")
        return {i: self.contracts[i] for i in ids if i in self.contracts}

    def contract_services(self, contract_ids: Iterable[int]) -> list[PsaContractService]:
        self.calls.append("read contract services")
        wanted = set(contract_ids)
        return [PsaContractService(cs, c, s) for (c, s), cs in self.services.items() if c in wanted]

    def unit_rows(self, contract_ids: Iterable[int], start: date, end: date) -> list[UnitRow]:
        self.calls.append("read units")
        wanted, rows = set(contract_ids), []
        for (c, s), cs in self.services.items():
            if c not in wanted:
                continue
            days = sorted({d for d, _ in self.changes[cs]})
            for i, day in enumerate(days):
                stop = days[i + 1] - timedelta(days=1) if i + 1 < len(days) else date(2027, 12, 31)
                units = sum(u for d, u in self.changes[cs] if d <= day)
                if day <= end and stop >= start:
                    rows.append(UnitRow(cs, c, s, day, stop, units))
        return rows

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int:
        raise AssertionError("adjustments add services to contracts themselves")

    def create_adjustment(self, new: NewAdjustment) -> int | None:
        self.calls.append("write adjustment")
        cs = self.services.setdefault((new.contract_id, new.service_id), 1000 + len(self.services))
        self.changes[cs].append((new.effective, new.unit_change))
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise PsaUnavailable("Autotask is unavailable (ServerError).")
        return len(self.calls)

    def close(self) -> None:
        pass

    def units_on(self, contract_id: int, service_id: int, day: date) -> int:
        cs = self.services.get((contract_id, service_id))
        return sum(u for d, u in self.changes[cs] if d <= day) if cs else 0


@pytest.fixture
def setup(database_url: str, sync_engine: Engine) -> tuple[int, int, dict[str, int]]:
    partner = add_partner(sync_engine)
    program = add_program(sync_engine)
    configure(sync_engine, partner, program)
    services = {}
    with Session(sync_engine) as session, session.begin():
        for n, sku in enumerate(("A", "B", "C")):
            full = f"{sku}-{uuid.uuid4().hex[:6]}"
            product = add_product(sync_engine, program, full)
            session.add(
                ProductServiceLink(
                    partner_id=partner,
                    psa="AUTOTASK",
                    program_id=program,
                    product_id=product,
                    sku=full,
                    service_id=500 + n,
                    origin="CREATED",
                )
            )
            services[full] = 500 + n
    return partner, program, services


def issue(
    engine: Engine, partner: int, program: int, lines: list[tuple[int, str, int, date, date]]
) -> int:
    with Session(engine) as session, session.begin():
        invoice = Invoice(
            key=uuid.uuid4().hex,
            partner_id=partner,
            program_id=program,
            period_start=NOV,
            period_end=NOV_30,
            currency="AUD",
            total=Decimal(0),
        )
        session.add(invoice)
        session.flush()
        for position, (customer, sku, qty, start, end) in enumerate(lines):
            session.add(
                InvoiceLine(
                    invoice_id=invoice.id,
                    position=position,
                    customer_id=customer,
                    sku=sku,
                    kind=LineKind.SUBSCRIPTION,
                    billing_term=BillingTerm.MONTHLY,
                    period_start=start,
                    period_end=end,
                    quantity=Decimal(qty),
                    unit_cost=Decimal("1.00"),
                    unit_price=Decimal("2.00"),
                    amount=Decimal(0),
                )
            )
        return invoice.id


def customers(engine: Engine, partner: int, program: int, n: int) -> dict[int, int]:
    out = {}
    with Session(engine) as session, session.begin():
        for i in range(n):
            name = f"C{i} {uuid.uuid4().hex[:6]}"
            c = Customer(
                owner_id=partner, name=name, name_key=name.casefold(), status=CustomerStatus.ACTIVE
            )
            session.add(c)
            session.flush()
            contract = 9000 + i
            session.add(
                CustomerMapping(
                    partner_id=partner,
                    program_id=program,
                    customer_id=c.id,
                    company_id=1,
                    company_name="Co",
                    contract_id=contract,
                    contract_name="K",
                    sync_enabled=True,
                )
            )
            out[c.id] = contract
    return out


def run(engine: Engine, psa: FakePsa, partner: int, program: int, invoice: int) -> InvoiceSyncRun:
    with Session(engine) as session, session.begin():
        run_id = start_run(
            session, partner_id=partner, program_id=program, trigger="MANUAL", invoice_id=invoice
        ).id
    InvoiceSync(engine, open_psa=lambda *_: psa).drive(run_id)
    with Session(engine) as session:
        found = session.get(InvoiceSyncRun, run_id)
        assert found is not None
        session.expunge(found)
        return found


def test_reads_are_batched_and_each_change_is_one_write(
    sync_engine: Engine, setup: tuple[int, int, dict[str, int]]
) -> None:
    partner, program, services = setup
    mapping = customers(sync_engine, partner, program, 30)
    lines = [
        (customer, sku, 3, NOV, NOV_30) for customer in mapping for sku in services
    ]  # 30 customers x 3 subscriptions
    psa = FakePsa(mapping.values())

    first = run(sync_engine, psa, partner, program, issue(sync_engine, partner, program, lines))

    assert first.status == "SUCCESS" and first.adjustments_applied == 90
    assert psa.calls.count("write adjustment") == 90
    # One read of the contracts, one of their services (no units yet), and after writing
    # one read of services and units for the reconciliation: never one per subscription.
    reads = [c for c in psa.calls if c.startswith("read")]
    assert reads == [
        "read contracts",
        "read contract services",
        "read contract services",
        "read units",
    ]
    for contract in mapping.values():
        for service in services.values():
            assert psa.units_on(contract, service, NOV_30) == 3

    psa.calls.clear()
    again = run(sync_engine, psa, partner, program, issue(sync_engine, partner, program, lines))

    assert again.status == "NO_CHANGE"
    assert psa.calls == ["read contracts", "read contract services", "read units"]


def test_a_lost_answer_is_read_back_and_not_written_again(
    sync_engine: Engine, setup: tuple[int, int, dict[str, int]]
) -> None:
    partner, program, services = setup
    mapping = customers(sync_engine, partner, program, 1)
    (customer, contract), sku = next(iter(mapping.items())), next(iter(services))
    psa = FakePsa(mapping.values())
    psa.lose_next_answer = True
    invoice = issue(
        sync_engine,
        partner,
        program,
        [
            (customer, sku, 4, NOV, date(2026, 11, 9)),
            (customer, sku, 6, date(2026, 11, 10), NOV_30),
        ],
    )

    result = run(sync_engine, psa, partner, program, invoice)

    assert result.status == "SUCCESS"
    assert psa.calls.count("write adjustment") == 2
    assert psa.units_on(contract, services[sku], NOV) == 4
    assert psa.units_on(contract, services[sku], NOV_30) == 6
