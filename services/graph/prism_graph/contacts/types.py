"""GraphQL object types of contacts: contacts by type (the people of a partner or customer
account who get its billing, statement and usage-reporting notices) and the contacts of a
customer's account, with their roles. Inputs are `inputs.py`, payloads `payloads.py`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.access import ContactRole as DomainContactRole
from prism_domain.contacts import ContactType as DomainContactType
from prism_graph.common.enums import described_enum
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.customers.types import Customer
from prism_tables import contacts as models

ContactType = described_enum(
    DomainContactType,
    name="ContactType",
    description="What a contact of a partner or customer account is told about. Every type "
    "of an account keeps at least one contact.",
    values={
        "BILLING": "Gets a notice of every new invoice, with a copy of the invoice.",
        "STATEMENT": "Gets statement-of-account notices of outstanding payments.",
        "USAGE_REPORTING": "Gets requests to submit usage reports (e.g. SPLA, Citrix CSP).",
    },
)
ContactRole = described_enum(
    DomainContactRole,
    name="ContactRole",
    description="A customer-account contact's role; it decides which applications of the "
    "account the contact may open (`Me.applications`).",
    values={
        "PRIMARY": "The account's owner: manages its contacts and roles. Exactly one per "
        "account; its address is on the ordering partner's domain (a direct customer's own "
        "domain).",
        "BILLING": "Invoices, payments and licence extensions; like the primary's, its "
        "address is on the ordering partner's domain (a direct customer's own domain).",
        "SUPPORT": "The help desk and dashboards.",
        "TECHNICAL": "Dashboards; deleting a technical contact needs a confirmation.",
        "UNASSIGNED": "No role yet: notifications, documentation and payments only.",
    },
)


@strawberry.type(
    description="A contact of a partner or customer account, attached to one or more contact types."
)
class AccountContact(relay.Node):
    id: relay.NodeID[int]
    first_name: str = strawberry.field(description="The contact's first name.")
    last_name: str = strawberry.field(description="The contact's last name.")
    email: str = strawberry.field(
        description="Where the notices go, in lower case; unique within the account."
    )
    created_at: datetime = strawberry.field(description="When the contact was added.")

    @strawberry.field(description="The contact types this contact is attached to, in order.")
    async def types(self, info: Info) -> list[ContactType]:  # type: ignore[valid-type]
        return await info.context.loaders.contact_types_by_contact.load(self.id)

    @classmethod
    def from_model(cls, row: models.AccountContact) -> AccountContact:
        return cls(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[AccountContact | None]:
        return await load_nodes(
            info.context.loaders.account_contact_by_id, node_ids, cls.from_model
        )


@strawberry.type(description="One contact type of an account and the contacts attached to it.")
class ContactTypeGroup:
    type: ContactType = strawberry.field(  # type: ignore[valid-type]
        description="The contact type."
    )
    contacts: list[AccountContact] = strawberry.field(
        description="The contacts attached to it, by last and first name; empty when none is."
    )


@strawberry.type(description="An account's contacts, and per contact type the contacts on it.")
class AccountContacts:
    contacts: list[AccountContact] = strawberry.field(
        description="Every contact of the account, by last and first name."
    )
    by_type: list[ContactTypeGroup] = strawberry.field(
        description="Every contact type, in order, with the contacts attached to it."
    )


@strawberry.type(description="A person who signs in to a customer's account.")
class CustomerContact(relay.Node):
    id: relay.NodeID[int]
    display_name: str = strawberry.field(description="The name shown to other people.")
    email: str = strawberry.field(
        description="The address sign-in links go to, in lower case; unique within the account."
    )
    role: ContactRole = strawberry.field(  # type: ignore[valid-type]
        description="The contact's role; UNASSIGNED when it has none."
    )
    verified_at: datetime | None = strawberry.field(
        description="When the contact confirmed its address through the verification link; "
        "null until then (and again after its address changed)."
    )
    created_at: datetime = strawberry.field(description="When the contact was added.")
    customer_id: strawberry.Private[int]

    @strawberry.field(
        description="Whether the contact confirmed its current address. Only verified "
        "contacts can be given a role or ask for sign-in links."
    )
    def verified(self) -> bool:
        return self.verified_at is not None

    @strawberry.field(description="The customer whose account this is.")
    async def customer(self, info: Info) -> Customer | None:
        row = await info.context.loaders.customer_by_id.load(self.customer_id)
        return Customer.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: models.CustomerContact) -> CustomerContact:
        return cls(
            id=row.id,
            display_name=row.display_name,
            email=row.email,
            role=row.role,
            verified_at=row.verified_at,
            created_at=row.created_at,
            customer_id=row.customer_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[CustomerContact | None]:
        return await load_nodes(
            info.context.loaders.customer_contact_by_id, node_ids, cls.from_model
        )
