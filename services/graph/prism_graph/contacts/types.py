"""GraphQL types of contacts (SPEC C1–C5, R1–R7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.access import ContactRole as DomainContactRole
from prism_domain.contacts import ContactType as DomainContactType
from prism_graph.common.errors import UserError
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.customers.types import Customer
from prism_tables import contacts as models

ContactType = strawberry.enum(
    DomainContactType,
    name="ContactType",
    description=(
        "C1: BILLING gets new invoices (with a copy), STATEMENT statement-of-account notices, "
        "USAGE_REPORTING requests to submit usage reports."
    ),
)
ContactRole = strawberry.enum(
    DomainContactRole,
    name="ContactRole",
    description="R2: a customer-account contact's role; UNASSIGNED when it has none.",
)


@strawberry.type(description="C1: a contact of a partner or customer account, by type.")
class AccountContact(relay.Node):
    id: relay.NodeID[int]
    first_name: str
    last_name: str
    email: str
    created_at: datetime

    @strawberry.field(description="The contact types this contact is attached to.")
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


@strawberry.type(description="C4: the active contacts of one contact type.")
class ContactTypeGroup:
    type: ContactType  # type: ignore[valid-type]
    contacts: list[AccountContact]


@strawberry.type(description="C4: an account's contacts, and per type its active contacts.")
class AccountContacts:
    contacts: list[AccountContact]
    by_type: list[ContactTypeGroup] = strawberry.field(
        description="Every contact type, in order, with the contacts attached to it."
    )


@strawberry.type(description="R1: a person who signs in to a customer's account.")
class CustomerContact(relay.Node):
    id: relay.NodeID[int]
    display_name: str
    email: str
    role: ContactRole  # type: ignore[valid-type]
    verified_at: datetime | None
    created_at: datetime
    customer_id: strawberry.Private[int]

    @strawberry.field(description="R4: the contact confirmed its address through the link.")
    def verified(self) -> bool:
        return self.verified_at is not None

    @strawberry.field
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


# Inputs -----------------------------------------------------------------------------------


@strawberry.input
class AddAccountContactInput:
    account_id: relay.GlobalID = strawberry.field(
        description="A partner (Organisation) or a Customer."
    )
    first_name: str
    last_name: str
    email: str
    type: ContactType  # type: ignore[valid-type]


@strawberry.input
class ContactTypeInput:
    contact_id: relay.GlobalID
    type: ContactType  # type: ignore[valid-type]


@strawberry.input
class AddCustomerContactInput:
    customer_id: relay.GlobalID
    display_name: str
    email: str
    send_verification_email: bool = strawberry.field(
        default=True, description="R4: mail a single-use, expiring verification link."
    )


@strawberry.input
class SetCustomerContactRoleInput:
    id: relay.GlobalID
    role: ContactRole  # type: ignore[valid-type]


@strawberry.input
class DeleteCustomerContactInput:
    id: relay.GlobalID
    confirm: bool = strawberry.field(
        default=False, description="R6: required to delete a BILLING or TECHNICAL contact."
    )


@strawberry.input
class StatementDueInput:
    account_id: relay.GlobalID
    statement_date: date
    amount_due: Decimal
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    due_date: date
    link: str | None = None


@strawberry.input
class UsageReportRequestInput:
    account_id: relay.GlobalID
    program_name: str
    period_start: date
    period_end: date
    due_date: date
    link: str | None = strawberry.field(
        default=None, description="Where to submit the report; the portal's page by default."
    )


# Payloads ---------------------------------------------------------------------------------


@strawberry.type
class AccountContactPayload:
    contact: AccountContact | None
    errors: list[UserError]


@strawberry.type
class CustomerContactPayload:
    contact: CustomerContact | None
    errors: list[UserError]


@strawberry.type
class DeleteCustomerContactPayload:
    deleted_id: relay.GlobalID | None
    errors: list[UserError]


@strawberry.type
class VerifyCustomerContactPayload:
    verified: bool
    errors: list[UserError]


@strawberry.type
class RequestContactSignInPayload:
    message: str = strawberry.field(
        description="The same answer whether or not the address belongs to a contact."
    )
    errors: list[UserError]


@strawberry.type
class ContactSignInPayload:
    access_token: str | None = strawberry.field(
        description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None
    contact: CustomerContact | None
    errors: list[UserError]


@strawberry.type
class NotificationPayload:
    recipients: int = strawberry.field(description="Mails newly enqueued, one per contact.")
    errors: list[UserError]
