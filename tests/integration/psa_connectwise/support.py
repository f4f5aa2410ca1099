"""A partner whose program's products are catalog items in a simulated ConnectWise and whose
customers are mapped to agreements there: the world of this folder's invoice sync tests. The
invoice side is syncer/invoices/support.py's `World`, without its Autotask."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectwise_sim.seed import SUBCATEGORY_ID
from prism_domain.sync import PsaKind, service_name
from prism_psa.port import NewService
from prism_syncer.invoices.sync import InvoiceSync
from prism_tables.sync.invoices import InvoiceSyncRun
from prism_tables.sync.products import ProductServiceLink
from tests.integration.syncer.invoices.support import World
from tests.support.connectwise import ConnectWise
from tests.support.psa import add_partner, add_product, add_program, configure
from tests.support.sides import ConnectWiseSide

PRICE = Decimal("36.00")  # the invoice lines' unit price (support.Line)


@dataclass
class Partner:
    """A partner whose program's products are catalog items in its ConnectWise, and whose
    customers are mapped to agreements there."""

    world: World
    cw: ConnectWise
    services: dict[str, int]

    def customer(self, start: date = date(2026, 1, 1)) -> tuple[int, int]:
        agreement = self.cw.add_agreement(start=start)
        return self.world.customer(contract=agreement), agreement

    def sync(self, invoice: int) -> InvoiceSyncRun:
        run_id = self.world.start(invoice)
        InvoiceSync(self.world.engine, open_psa=lambda *_: self.cw.psa).drive(run_id)
        return self.world.run(run_id)

    def units(self, agreement: int, sku: str, first: date, last: date) -> list[int]:
        return self.cw.units_between(agreement, self.services[sku], first, last)

    def addition_writes(self) -> list[str]:
        return [w for w in self.cw.writes() if "/additions" in w]

    def billed(self, agreement: int, month: date) -> Decimal:
        """What ConnectWise's invoice run bills for the agreement's month."""
        lines = self.cw.sim.invoice_month(agreement, month)
        return sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))


def new_partner(engine: Engine, cw: ConnectWise, skus: tuple[str, ...] = ("E3",)) -> Partner:
    world = World(engine, autotask=None, psa=ConnectWiseSide(None, cw))
    world.partner = add_partner(engine)
    world.program = add_program(engine)
    configure(engine, world.partner, world.program, billing_code_id=SUBCATEGORY_ID)
    world.settings(psa=PsaKind.CONNECTWISE.value)
    suffix = uuid.uuid4().hex[:6].upper()
    services = {}
    for short in skus:
        sku = f"{short}-{suffix}"
        product = add_product(engine, world.program, sku)
        world.products[short] = product
        services[short] = cw.psa.create_service(
            NewService(
                name=service_name(sku),
                description=f"Product {sku}",
                invoice_description=f"Product {sku}",
                unit_price=PRICE,
                unit_cost=Decimal("32.40"),
                billing_code_id=SUBCATEGORY_ID,
                vendor_company_id=None,
            )
        )
        with Session(engine) as session, session.begin():
            session.add(
                ProductServiceLink(
                    partner_id=world.partner,
                    program_id=world.program,
                    product_id=product,
                    sku=sku,
                    service_id=services[short],
                    origin="CREATED",
                    psa=PsaKind.CONNECTWISE.value,
                )
            )
    return Partner(world, cw, services)


def prorated(units_by_day: list[int], price: Decimal = PRICE) -> Decimal:
    """Units x price x days in effect / days in the month, as ConnectWise prorates."""
    return sum((Decimal(u) * price for u in units_by_day), Decimal(0)) / len(units_by_day)
