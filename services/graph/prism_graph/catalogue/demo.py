"""Demo catalogue and subscriptions (issue 6 item 5): a Microsoft CSP price list of a few
hundred products, generated from real product families x segments x billing terms, an Azure
plan billed from usage, a one-time onboarding fee and a few retired SKUs; then a handful of
subscriptions and tenants for the demo customers.

Idempotent: the price list goes through the CSV import (an unchanged list changes nothing),
and customers that already have subscriptions are left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from prism_domain.access import Scope
from prism_domain.customers import CustomerStatus
from prism_domain.money import round_amount
from prism_domain.organisations import OrganisationKind
from prism_graph.catalogue.programs import create_program
from prism_graph.catalogue.service import import_price_list
from prism_graph.database import Database
from prism_graph.subscriptions.service import NewSubscription, create_subscription
from prism_tables.catalogue import Product, Program
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription
from prism_tables.tenants import Tenant

PROGRAM = "Microsoft CSP"
CURRENCY = "AUD"
PRICES_FROM = date(2026, 1, 1)
PARTNER_DISCOUNT = Decimal("0.85")  # partners buy at 85% of RRP
MONTHLY_TERM_UPLIFT = Decimal("1.20")  # NCE: month-to-month costs 20% more

# (family, RRP per user per month on an annual term, in AUD)
FAMILIES: list[tuple[str, str]] = [
    ("Microsoft 365 Business Basic", "9.00"),
    ("Microsoft 365 Business Standard", "18.70"),
    ("Microsoft 365 Business Premium", "32.90"),
    ("Microsoft 365 Apps for business", "12.80"),
    ("Microsoft 365 Apps for enterprise", "18.00"),
    ("Microsoft 365 E3", "56.10"),
    ("Microsoft 365 E5", "89.80"),
    ("Microsoft 365 F1", "3.50"),
    ("Microsoft 365 F3", "12.00"),
    ("Office 365 E1", "15.00"),
    ("Office 365 E3", "35.90"),
    ("Office 365 E5", "59.90"),
    ("Exchange Online (Plan 1)", "6.00"),
    ("Exchange Online (Plan 2)", "12.00"),
    ("Exchange Online Kiosk", "3.00"),
    ("Exchange Online Archiving", "4.50"),
    ("SharePoint Online (Plan 1)", "7.50"),
    ("SharePoint Online (Plan 2)", "15.00"),
    ("OneDrive for business (Plan 1)", "7.50"),
    ("Microsoft Teams Essentials", "6.00"),
    ("Microsoft Teams Premium", "15.00"),
    ("Microsoft Teams Phone Standard", "12.00"),
    ("Microsoft Teams Rooms Pro", "60.00"),
    ("Microsoft Defender for Business", "4.50"),
    ("Microsoft Defender for Endpoint P1", "4.50"),
    ("Microsoft Defender for Endpoint P2", "7.80"),
    ("Microsoft Defender for Office 365 (Plan 1)", "3.00"),
    ("Microsoft Defender for Office 365 (Plan 2)", "7.50"),
    ("Microsoft Entra ID P1", "9.00"),
    ("Microsoft Entra ID P2", "13.50"),
    ("Microsoft Intune Plan 1", "12.00"),
    ("Microsoft Intune Suite", "15.00"),
    ("Enterprise Mobility + Security E3", "16.40"),
    ("Enterprise Mobility + Security E5", "24.70"),
    ("Microsoft Purview Information Protection", "3.00"),
    ("Windows 11 Enterprise E3", "10.50"),
    ("Windows 11 Enterprise E5", "17.60"),
    ("Windows 365 Business 2 vCPU 4 GB", "46.00"),
    ("Windows 365 Enterprise 2 vCPU 8 GB", "63.00"),
    ("Power BI Pro", "15.00"),
    ("Power BI Premium Per User", "30.00"),
    ("Power Apps Premium", "30.00"),
    ("Power Automate Premium", "22.50"),
    ("Project Plan 1", "15.00"),
    ("Project Plan 3", "45.00"),
    ("Visio Plan 1", "7.50"),
    ("Visio Plan 2", "22.50"),
    ("Dynamics 365 Business Central Essentials", "105.00"),
    ("Dynamics 365 Sales Professional", "98.00"),
    ("Microsoft Copilot for Microsoft 365", "45.00"),
]
# Segments with their share of the commercial price.
SEGMENTS: list[tuple[str, str, Decimal]] = [
    ("", "0001", Decimal("1")),
    (" (Education Faculty)", "0002", Decimal("0.40")),
    (" (Nonprofit Staff Pricing)", "0003", Decimal("0.75")),
]
RETIRED = {"Microsoft 365 F1", "Exchange Online Kiosk", "Microsoft Teams Rooms Pro"}
HEADER = ["sku", "name", "description", "buy_price", "rrp", "billing_term", "kind", "retired"]


def _product_id(name: str) -> str:
    """A stable CSP-like product id ("CFQ7TTC0" + 4 characters) from the family name."""
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return "CFQ7TTC0" + digest[:4]


def _money(value: Decimal) -> str:
    return str(round_amount(value, CURRENCY))


def price_list_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for family, monthly_rrp in FAMILIES:
        for suffix, sku_id, share in SEGMENTS:
            base = Decimal(monthly_rrp) * share
            retired = "true" if family in RETIRED else "false"
            for term, term_code, rrp in (
                ("ANNUAL", "P1Y", base * 12),
                ("MONTHLY", "P1M", base * MONTHLY_TERM_UPLIFT),
            ):
                writer.writerow(
                    [
                        f"{_product_id(family)}:{sku_id}:{term_code}",
                        f"{family}{suffix}",
                        f"{family}{suffix}, {term.lower()} term, per user",
                        _money(rrp * PARTNER_DISCOUNT),
                        _money(rrp),
                        term,
                        "LICENCE",
                        retired,
                    ]
                )
    writer.writerow(
        [
            "DZH318Z0BQ3Q:0001",
            "Azure plan",
            "Azure consumption, billed from usage",
            "1.00",
            "1.00",
            "MONTHLY",
            "USAGE",
            "false",
        ]
    )
    writer.writerow(
        [
            "PRISM-ONBOARD-M365",
            "Microsoft 365 onboarding",
            "One-time tenant set-up",
            "250.00",
            "350.00",
            "MONTHLY",
            "ONE_TIME_FEE",
            "false",
        ]
    )
    return out.getvalue()


# customer name -> (tenant prefix, [(family, term, quantity, start)])
DEMO_SUBSCRIPTIONS: dict[str, list[tuple[str, str, int, date]]] = {
    "Fabrikam, Inc.": [
        ("Microsoft 365 Business Premium", "MONTHLY", 25, date(2026, 9, 1)),
        ("Microsoft Defender for Office 365 (Plan 1)", "MONTHLY", 25, date(2026, 9, 1)),
        ("Power BI Pro", "ANNUAL", 5, date(2026, 10, 15)),
    ],
    "Adventure Works Cycles": [
        ("Microsoft 365 Business Standard", "MONTHLY", 40, date(2026, 8, 1)),
        ("Exchange Online (Plan 1)", "ANNUAL", 12, date(2026, 8, 1)),
    ],
    "Tailspin Toys": [("Microsoft 365 Business Basic", "MONTHLY", 8, date(2026, 10, 10))],
    "Wide World Importers": [
        ("Microsoft 365 E3", "ANNUAL", 120, date(2026, 7, 1)),
        ("Microsoft Teams Phone Standard", "MONTHLY", 30, date(2026, 9, 14)),
    ],
    "Litware, Inc.": [("Microsoft 365 E5", "MONTHLY", 15, date(2026, 10, 1))],
}


async def load_demo_catalogue(database: Database) -> dict[str, int]:
    created = {"products": 0, "subscriptions": 0}
    async with database.unit_of_work() as uow:
        program_id = await uow.session.scalar(select(Program.id).where(Program.name == PROGRAM))
    if program_id is None:
        made = await create_program(database, name=PROGRAM, currency=CURRENCY)
        assert not isinstance(made, list), made
        program_id = made.id
    report = await import_price_list(
        database,
        program_id,
        csv_text=price_list_csv(),
        dry_run=False,
        allow_partial=False,
        retire_missing=False,
        effective_from=PRICES_FROM,
    )
    assert not isinstance(report, list) and report.parsed.ok, report
    created["products"] = len(report.diff.created) if report.applied else 0

    async with database.unit_of_work() as uow:
        session = uow.session
        products = {
            (p.name, p.billing_term.value): p.id
            for p in await session.scalars(select(Product).where(Product.program_id == program_id))
        }
        customers = {
            c.name: c
            for c in await session.scalars(
                select(Customer)
                .join(Organisation, Organisation.id == Customer.owner_id)
                .where(Organisation.kind == OrganisationKind.PARTNER)
            )
        }
        subscribed = set(await session.scalars(select(Subscription.customer_id)))
        for name, customer in customers.items():
            if name in DEMO_SUBSCRIPTIONS and customer.domain and customer.id not in subscribed:
                tenant = customer.domain.split(".")[0] + ".onmicrosoft.com"
                exists = await session.scalar(select(Tenant.id).where(Tenant.domain == tenant))
                if exists is None:
                    session.add(
                        Tenant(customer_id=customer.id, program_id=program_id, domain=tenant)
                    )
        await uow.commit()
    for name, wanted in DEMO_SUBSCRIPTIONS.items():
        holder = customers.get(name)
        if holder is None or holder.id in subscribed:
            continue
        for family, term, quantity, start in wanted:
            result = await database.run(
                create_subscription,
                Scope(all_partners=True),  # trusted seeding code
                NewSubscription(
                    customer_id=holder.id,
                    product_id=products[(family, term)],
                    quantity=quantity,
                    start_date=start,
                    billing_term=None,
                ),
            )
            if isinstance(result, list):
                raise RuntimeError(f"demo subscription refused: {result}")
            created["subscriptions"] += 1
    # Customers billed for months are onboarded: ACTIVE, not prospects (the others stay
    # prospects, what the Prospect List shows).
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(Customer)
            .where(
                Customer.id.in_(select(Subscription.customer_id)),
                Customer.status == CustomerStatus.PROSPECT,
            )
            .values(status=CustomerStatus.ACTIVE)
        )
        await uow.commit()
    return created
