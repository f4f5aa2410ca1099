"""The demo's PSA sync (issue 7, "It must show"; issue 17): what `prism dev` does so that the
demo partners' invoices land in the local Autotask and ConnectWise simulators.

Through the same use cases as the API, Contoso Cloud Partners is connected to the simulator
(its documented credentials, S1), the Microsoft CSP program's sync is switched on (S2), two of
Contoso's customers are mapped to the simulator's companies and Recurring Service contracts
(S4), Fabrikam's Microsoft 365 seats change mid-month, and last month is billed (P3). The
products on that invoice are synced at once (S3, IN_USE); the invoice's `invoice.issued`
then waits in the outbox until the relay and the worker start, and the worker syncs it into
the simulator (S5). Then Microsoft raises the price of that Microsoft 365 product from the
first of this month (P1): its `product.price_changed` makes the worker update the service's
price in the simulator and mail the program's notification address a price-change warning
(S3, S8).

Northwind MSP, the second demo partner, syncs the same program to the ConnectWise simulator
instead (S13): its ConnectWise connection (the simulator's site, company id and API member
keys), the program's settings naming ConnectWise with the simulator's "Cloud subscriptions"
subcategory as billing code, and its two customers mapped to the simulator's seeded
agreements (Acme's and Globex's). The same billing run issues its invoice, which the worker
turns into agreement additions. Every step is skipped when already done, so restarting
changes nothing (the ConnectWise simulator keeps its records in memory only, so after a
restart on the same database it no longer holds what was synced before).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from autotask_sim import seed as sim
from autotask_sim.config import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME
from connectwise_sim import DEFAULT_COMPANY_ID, DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY
from connectwise_sim import seed as cw_sim
from prism_domain.access import Scope
from prism_domain.periods import Period
from prism_domain.sync import Credentials, ProductSyncMode, PsaKind, SyncTrigger
from prism_graph.billing.run import run_billing
from prism_graph.catalogue.service import change_price
from prism_graph.database import Database
from prism_graph.subscriptions.service import change_quantity
from prism_graph.sync import mapping, service
from prism_psa.connections import PsaConfig
from prism_syncer.products.handlers import run_product_sync
from prism_tables.billing import Invoice
from prism_tables.catalogue import Product, Program
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription, SubscriptionQuantity
from prism_tables.sync.connections import CustomerMapping, ProgramSyncSettings, PsaConnection
from prism_tables.sync.products import ProductSyncRun

log = logging.getLogger("prism.dev")

PARTNER = "Contoso Cloud Partners"
PROGRAM = "Microsoft CSP"
NOTIFY = "psa-alerts@contoso-partners.example"
# Prism customer -> (simulator company, its Recurring Service contract); Adventure Works
# stays unmapped, as a partner's new customer would.
MAPPINGS = {
    "Fabrikam, Inc.": (sim.CUSTOMER_IDS[1], sim.SECOND_RECURRING_CONTRACT_ID),
    "Tailspin Toys": (sim.CUSTOMER_IDS[0], sim.RECURRING_CONTRACT_ID),
}
# A mid-month change on the billed month: (customer, product, day of month, new quantity).
CHANGE = ("Fabrikam, Inc.", "Microsoft 365 Business Premium", 16, 30)
# The new prices of that subscription's product from the first of this month: (buy, RRP).
NEW_PRICES = (Decimal("29.30"), Decimal("34.50"))

CONNECTWISE_PARTNER = "Northwind MSP"
CONNECTWISE_NOTIFY = "psa-alerts@northwind-msp.example"
# Prism customer -> (simulator company, its agreement): Acme's and Globex's seeded ones.
CONNECTWISE_MAPPINGS = {
    "Wide World Importers": (cw_sim.CUSTOMER_IDS[0], cw_sim.AGREEMENT_ID),
    "Litware, Inc.": (cw_sim.CUSTOMER_IDS[1], cw_sim.SECOND_AGREEMENT_ID),
}


@dataclass(frozen=True)
class DemoPartner:
    """A demo partner's PSA: which one, how the program syncs there, who maps where."""

    name: str
    psa: PsaKind
    billing_code_id: int
    vendor_company_id: int | None
    notify: str
    mappings: dict[str, tuple[int, int]]


DEMO_PARTNERS = (
    DemoPartner(
        PARTNER, PsaKind.AUTOTASK, sim.RECURRING_CODE_ID, sim.VENDOR_COMPANY_ID, NOTIFY, MAPPINGS
    ),
    DemoPartner(
        CONNECTWISE_PARTNER,
        PsaKind.CONNECTWISE,
        cw_sim.SUBCATEGORY_ID,
        None,
        CONNECTWISE_NOTIFY,
        CONNECTWISE_MAPPINGS,
    ),
)


@dataclass(frozen=True)
class DemoSync:
    partner_id: int
    program_id: int
    month: Period


def last_month(today: date) -> Period:
    return Period.parse_month((today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))


async def prepare(
    database: Database, config: PsaConfig, today: date, *, connectwise_site: str | None = None
) -> list[DemoSync]:
    """Each demo partner's connection, settings and mappings, then the mid-month change and
    last month's invoices. Without `connectwise_site` (no ConnectWise simulator) only the
    Autotask demo partner is set up."""
    demos = []
    for partner in DEMO_PARTNERS:
        if partner.psa is PsaKind.CONNECTWISE and connectwise_site is None:
            continue
        demo = await _connect(database, config, partner, today, connectwise_site)
        if demo is not None:
            demos.append(demo)
    if not demos:
        return demos
    month = demos[0].month
    billed = [await _billed(database, d.partner_id, d.program_id, month) for d in demos]
    if not all(billed):
        if not billed[0]:
            async with AsyncSession(database.engine) as session:
                changed = await session.scalar(
                    select(Customer.id).where(
                        Customer.owner_id == demos[0].partner_id, Customer.name == CHANGE[0]
                    )
                )
            await _change_mid_month(database, changed, month)
        issued = await run_billing(database, month)  # issues only what is not issued yet
        log.info(
            "demo billing of %s: %d invoice(s) issued", f"{month.start:%Y-%m}", len(issued.issued)
        )
    return demos


async def _connect(
    database: Database,
    config: PsaConfig,
    partner: DemoPartner,
    today: date,
    connectwise_site: str | None,
) -> DemoSync | None:
    """One demo partner's connection, program settings and customer mappings."""
    async with AsyncSession(database.engine) as session:
        partner_id = await session.scalar(
            select(Organisation.id).where(Organisation.name == partner.name)
        )
        program_id = await session.scalar(select(Program.id).where(Program.name == PROGRAM))
        connection = await session.scalar(
            select(PsaConnection).where(
                PsaConnection.partner_id == partner_id, PsaConnection.psa == partner.psa.value
            )
        )
        configured = await session.scalar(
            select(ProgramSyncSettings.id).where(
                ProgramSyncSettings.partner_id == partner_id,
                ProgramSyncSettings.program_id == program_id,
            )
        )
        mapped = set(
            await session.scalars(
                select(Customer.name)
                .join(CustomerMapping, CustomerMapping.customer_id == Customer.id)
                .where(CustomerMapping.partner_id == partner_id)
            )
        )
        customers = {
            c.name: c.id
            for c in await session.scalars(select(Customer).where(Customer.owner_id == partner_id))
        }
    if partner_id is None or program_id is None:
        log.warning("demo sync of %s skipped: no such partner or program", partner.name)
        return None
    if partner.psa is PsaKind.CONNECTWISE:
        keys = service.parse_connectwise(
            config,
            site=connectwise_site,
            company_id=DEFAULT_COMPANY_ID,
            public_key=DEFAULT_PUBLIC_KEY,
            private_key=DEFAULT_PRIVATE_KEY,
        )
        if isinstance(keys, list):
            raise RuntimeError(f"demo sync set-up refused: {keys}")
        # Saved again when the simulator listens elsewhere than the stored site.
        if connection is None or connection.site != keys.site:
            _ok(await service.save_connectwise_connection(database, config, partner_id, keys))
    elif connection is None:
        credentials = Credentials(DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE)
        _ok(await service.save_connection(database, config, partner_id, credentials))
    if configured is None:
        _ok(
            await service.save_settings(
                database,
                config,
                partner_id,
                program_id=program_id,
                sync_enabled=True,
                mode=ProductSyncMode.IN_USE,
                sync_azure_usage=True,
                billing_code_id=partner.billing_code_id,
                vendor_company_id=partner.vendor_company_id,
                notification_emails=[partner.notify],
                psa=partner.psa,
            )
        )
    for name, (company_id, contract_id) in partner.mappings.items():
        if name not in mapped and name in customers:
            _ok(
                await mapping.save_mapping(
                    database,
                    config,
                    partner_id,
                    program_id=program_id,
                    customer_id=customers[name],
                    company_id=company_id,
                    contract_id=contract_id,
                    sync_enabled=True,
                    sync_now=False,
                )
            )
    return DemoSync(partner_id, program_id, last_month(today))


def sync_products(engine: Engine, config: PsaConfig, demo: DemoSync) -> None:
    """The products on the demo invoice, in the simulator before the invoice sync needs them."""
    with Session(engine) as session:
        done = session.scalar(
            select(ProductSyncRun.id).where(
                ProductSyncRun.partner_id == demo.partner_id,
                ProductSyncRun.status.in_(("SUCCESS", "WARNING", "NO_CHANGE")),
            )
        )
        if done is None:
            run = run_product_sync(
                session, config, demo.partner_id, demo.program_id, SyncTrigger.MANUAL
            )
            session.commit()
            if run is not None:
                log.info("demo product sync: %s, %d created", run.status, run.created)


async def raise_price(database: Database, today: date) -> None:
    """The price rise of the changed subscription's product (the same version on a restart)."""
    customer, product_name, _, _ = CHANGE
    async with AsyncSession(database.engine) as session:
        product_id = await session.scalar(
            select(Subscription.product_id)
            .join(Product, Product.id == Subscription.product_id)
            .join(Customer, Customer.id == Subscription.customer_id)
            .where(Customer.name == customer, Product.name == product_name)
            .limit(1)
        )
    if product_id is None:
        return
    buy, rrp = NEW_PRICES
    changed = await change_price(
        database, product_id, buy_price=buy, rrp=rrp, effective_from=today.replace(day=1)
    )
    _ok(changed)


async def _billed(database: Database, partner_id: int, program_id: int, month: Period) -> bool:
    async with AsyncSession(database.engine) as session:
        found = await session.scalar(
            select(Invoice.id).where(
                Invoice.partner_id == partner_id,
                Invoice.program_id == program_id,
                Invoice.period_start == month.start,
            )
        )
        return found is not None


async def _change_mid_month(database: Database, customer_id: int | None, month: Period) -> None:
    _, product_name, day, quantity = CHANGE
    effective = month.start.replace(day=day)
    async with AsyncSession(database.engine) as session:
        found = (
            await session.execute(
                select(Subscription.id, SubscriptionQuantity.id)
                .join(Product, Product.id == Subscription.product_id)
                .outerjoin(
                    SubscriptionQuantity,
                    (SubscriptionQuantity.subscription_id == Subscription.id)
                    & (SubscriptionQuantity.effective_from == effective),
                )
                .where(Subscription.customer_id == customer_id, Product.name == product_name)
            )
        ).first()
    if found is None or found[1] is not None:
        return
    _ok(
        await database.run(
            change_quantity,
            Scope(all_partners=True),  # trusted seeding code
            found[0],
            quantity=quantity,
            effective_from=effective,
        )
    )


def _ok(result: object) -> None:
    if isinstance(result, list):
        raise RuntimeError(f"demo sync set-up refused: {result}")
