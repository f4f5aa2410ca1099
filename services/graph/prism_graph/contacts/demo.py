"""Demo contacts for `make run` (C1, R1): every demo partner and customer has contacts of
every type, and one customer has a verified primary contact who can sign in by a link.

Idempotent: contacts that exist already are left alone.
"""

from __future__ import annotations

from sqlalchemy import select

from prism_domain.access import ContactRole, Scope
from prism_domain.contacts import ContactType
from prism_domain.errors import ErrorCode
from prism_domain.organisations import OrganisationKind
from prism_graph.contacts import by_type
from prism_graph.contacts.accounts import AccountRef
from prism_graph.database import Database
from prism_platform.db import utcnow
from prism_tables.contacts import CustomerContact
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation

TRUSTED = Scope(all_partners=True)
# (first name, last name, mailbox, types): a finance person and an operations person.
DEMO_TYPED_CONTACTS = [
    ("Alex", "Accounts", "accounts", (ContactType.BILLING, ContactType.STATEMENT)),
    ("Olly", "Operations", "operations", (ContactType.USAGE_REPORTING, ContactType.BILLING)),
]
# The customer whose owner signs in as its primary contact (on the partner's domain, R3).
DEMO_PRIMARY_CUSTOMER = "Fabrikam, Inc."
DEMO_PRIMARY_MAILBOX = "fabrikam-owner"


async def load_demo_contacts(database: Database) -> dict[str, int]:
    created = {"contacts": 0, "customer_contacts": 0}
    async with database.unit_of_work() as uow:
        # Plain values: the rows expire when this read-only transaction ends.
        partners = {
            p.id: p.domain
            for p in (
                await uow.session.scalars(
                    select(Organisation).where(Organisation.kind == OrganisationKind.PARTNER)
                )
            ).all()
        }
        customers = [
            (c.id, c.name, c.domain, c.owner_id)
            for c in (await uow.session.scalars(select(Customer))).all()
        ]
    accounts = [(AccountRef(organisation_id=pid), domain) for pid, domain in partners.items()]
    accounts += [(AccountRef(customer_id=cid), domain) for cid, _, domain, _ in customers]
    for account, account_domain in accounts:
        if not account_domain:
            continue
        for first, last, mailbox, types in DEMO_TYPED_CONTACTS:
            created["contacts"] += await _typed_contact(
                database, account, first, last, f"{mailbox}@{account_domain}", types
            )
    for customer_id, name, _, owner_id in customers:
        owner_domain = partners.get(owner_id)
        if name == DEMO_PRIMARY_CUSTOMER and owner_domain:
            email = f"{DEMO_PRIMARY_MAILBOX}@{owner_domain}"
            created["customer_contacts"] += await _primary_contact(database, customer_id, email)
    return created


async def _typed_contact(
    database: Database,
    account: AccountRef,
    first: str,
    last: str,
    email: str,
    types: tuple[ContactType, ...],
) -> int:
    result = await by_type.add_contact(
        database,
        TRUSTED,
        account,
        first_name=first,
        last_name=last,
        email=email,
        contact_type=types[0],
    )
    if isinstance(result, list):
        if any(e.code is not ErrorCode.DUPLICATE for e in result):
            raise RuntimeError(f"demo contact {email} refused: {result}")
        return 0
    for more in types[1:]:
        await by_type.add_to_type(database, TRUSTED, result.id, more)
    return 1


async def _primary_contact(database: Database, customer_id: int, email: str) -> int:
    async with database.unit_of_work() as uow:
        exists = await uow.session.scalar(
            select(CustomerContact.id).where(
                CustomerContact.customer_id == customer_id, CustomerContact.email == email
            )
        )
        if exists is not None:
            return 0
        uow.session.add(
            CustomerContact(
                customer_id=customer_id,
                display_name="Fabrikam Owner",
                email=email,
                role=ContactRole.PRIMARY,
                verified_at=utcnow(),
            )
        )
        await uow.commit()
        return 1


__all__ = ["load_demo_contacts"]
