"""Demo data for `make run`: a distributor, two partners and their customers.

Idempotent: what already exists is left alone, so running it again changes nothing.
Customers are created through the same use case as the API, so their events flow too.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from prism_domain.access import UserRole
from prism_domain.errors import ErrorCode
from prism_domain.organisations import OrganisationKind
from prism_graph.catalogue.demo import load_demo_catalogue
from prism_graph.contacts.demo import load_demo_contacts
from prism_graph.customers.service import create_customer
from prism_graph.database import Database
from prism_graph.identity.secrets import Passwords
from prism_tables.identity import User, UserStatus
from prism_tables.organisations import Organisation

log = logging.getLogger(__name__)

DISTRIBUTOR = ("Prism Distribution", "prism-distribution.example")
PARTNERS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "Contoso Cloud Partners": (
        "contoso-partners.example",
        [
            ("Fabrikam, Inc.", "fabrikam.example"),
            ("Adventure Works Cycles", "adventure-works.example"),
            ("Tailspin Toys", "tailspintoys.example"),
        ],
    ),
    "Northwind MSP": (
        "northwind-msp.example",
        [
            ("Wide World Importers", "wideworldimporters.example"),
            ("Litware, Inc.", "litware.example"),
        ],
    ),
}
DIRECT_CUSTOMERS = [("Blue Yonder Airlines", "blueyonderairlines.example")]

# Demo logins, printed by `make run`: never used outside the demo data.
DEMO_PASSWORD = "prism-demo-password"  # noqa: S105
DEMO_USERS: list[tuple[str, str, str, UserRole]] = [
    ("Prism Distribution", "admin@prism-distribution.example", "Dana Distributor", UserRole.ADMIN),
    ("Contoso Cloud Partners", "admin@contoso-partners.example", "Carla Contoso", UserRole.ADMIN),
    ("Contoso Cloud Partners", "sales@contoso-partners.example", "Sam Sales", UserRole.MEMBER),
    ("Northwind MSP", "admin@northwind-msp.example", "Nina Northwind", UserRole.ADMIN),
]


async def load_demo_data(database: Database, passwords: Passwords) -> dict[str, int]:
    created = {"organisations": 0, "users": 0, "customers": 0}
    async with database.unit_of_work() as uow:
        session = uow.session
        existing = {(o.kind, o.name) for o in (await session.scalars(select(Organisation))).all()}
        wanted = [(OrganisationKind.DISTRIBUTOR, *DISTRIBUTOR)] + [
            (OrganisationKind.PARTNER, name, domain) for name, (domain, _) in PARTNERS.items()
        ]
        for kind, name, domain in wanted:
            if (kind, name) not in existing:
                session.add(Organisation(kind=kind, name=name, domain=domain))
                created["organisations"] += 1
        await session.flush()
        by_name = {o.name: o.id for o in (await session.scalars(select(Organisation))).all()}
        known = set((await session.scalars(select(User.email))).all())
        password_hash = passwords.hash(DEMO_PASSWORD)
        for org_name, email, display_name, role in DEMO_USERS:
            if email not in known:
                session.add(
                    User(
                        organisation_id=by_name[org_name],
                        email=email,
                        display_name=display_name,
                        role=role,
                        status=UserStatus.ACTIVE,
                        password_hash=password_hash,
                    )
                )
                created["users"] += 1
        await uow.commit()
        partners = {
            o.name: o.id
            for o in (
                await session.scalars(
                    select(Organisation).where(Organisation.kind == OrganisationKind.PARTNER)
                )
            ).all()
        }
    todo: list[tuple[int | None, str, str]] = [
        (partners[p], name, domain) for p, (_, cs) in PARTNERS.items() for name, domain in cs
    ] + [(None, name, domain) for name, domain in DIRECT_CUSTOMERS]
    for partner_id, name, domain in todo:
        result = await create_customer(database, partner_id=partner_id, name=name, domain=domain)
        if isinstance(result, list):
            if not all(e.code == ErrorCode.DUPLICATE for e in result):
                raise RuntimeError(f"demo customer {name!r} refused: {result}")
        else:
            created["customers"] += 1
    created.update(await load_demo_contacts(database))  # C1, R1: contacts of every type
    created.update(await load_demo_catalogue(database))  # P1, O7: CSP price list, subscriptions
    return created
