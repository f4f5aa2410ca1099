"""Identity's GraphQL object types: users, API clients, the caller (`Me`) and their enums.
The inputs of the identity mutations are `inputs.py`, their payloads `payloads.py`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.access import Application as DomainApplication
from prism_domain.access import Permission
from prism_domain.access import PrincipalKind as DomainPrincipalKind
from prism_domain.access import UserRole as DomainUserRole
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
from prism_graph.common.nodes import load_nodes
from prism_graph.context import Info
from prism_graph.organisations.types import Organisation
from prism_tables import identity as models

UserRole = described_enum(
    DomainUserRole,
    name="UserRole",
    description="What a staff user may do in their organisation.",
    values={
        "ADMIN": "Manages the organisation's users, API clients, settings and PSA connection, "
        "reads its audit log, and does everything a member does.",
        "MEMBER": "Works with customers, orders, subscriptions, contacts and invoices.",
    },
)
UserStatus = described_enum(
    models.UserStatus,
    name="UserStatus",
    description="Where a user is in their life cycle.",
    values={
        "INVITED": "Invited by e-mail and has not set a password yet; cannot sign in.",
        "ACTIVE": "Has set a password and can sign in.",
        "DEACTIVATED": "Switched off by an admin: cannot sign in, sessions ended.",
    },
)
PrincipalKind = described_enum(
    DomainPrincipalKind,
    name="PrincipalKind",
    description="What kind of caller holds the access token.",
    values={
        "USER": "A staff user of the distributor or of a partner, signed in with a password.",
        "API_CLIENT": "A partner's machine credentials (OAuth client credentials).",
        "CONTACT": "A customer account's contact, signed in with an e-mailed link.",
    },
)
Application = described_enum(
    DomainApplication,
    name="Application",
    description=(
        "The applications of a customer's account. Which ones a contact may open follows "
        "from its role: see `Me.applications`."
    ),
    values={
        "NOTIFICATIONS": "Notices sent to the account; every contact.",
        "CONTACT_MANAGER": "Adding, editing and removing the account's contacts and their "
        "roles; the primary contact.",
        "ORDER_BOOK": "The account's orders; primary and billing contacts.",
        "PAYMENT_RECORD": "Payments made; billing contacts.",
        "LICENSE_EXTENSION": "Extending licences; billing contacts.",
        "DASHBOARDS": "Usage dashboards; every contact with a role.",
        "HELP_DESK": "Support requests; support contacts.",
        "BILL_DESK": "Invoices and billing questions; billing contacts.",
        "DOCUMENTATION": "Product documentation; every contact.",
        "PAYMENT_GATEWAY": "Paying online; every contact.",
    },
)
PermissionEnum = described_enum(
    Permission,
    name="Permission",
    description="What the caller may do; `Me.permissions` lists the caller's.",
    values={
        "VIEW_ORGANISATIONS": "Read the distributor's and the own partner's organisation.",
        "VIEW_CUSTOMERS": "Read customers (a contact: its own customer only).",
        "MANAGE_CUSTOMERS": "Create and change customers, their tenants, and send them notices.",
        "MANAGE_USERS": "Invite, deactivate and change the role of the organisation's users.",
        "MANAGE_API_CLIENTS": "Create and revoke the organisation's API clients.",
        "VIEW_AUDIT_LOG": "Read the organisation's audit log.",
        "MANAGE_OWN_ACCOUNT": "Change one's own password and sign out.",
        "MANAGE_CUSTOMER_CONTACTS": "Manage the contacts of accounts and their roles.",
        "VIEW_ORDERS": "Read orders: staff every order of their customers at the partner's "
        "cost; a customer's contact its own customer's submitted orders at the customer's "
        "prices.",
        "VIEW_ORDER_DOCUMENTS": "Read order addenda, customer attachments and Requests for "
        "Information, which show the partner's costs (staff and API clients).",
        "VIEW_BILLING": "Read invoices and billing.",
        "VIEW_CATALOGUE": "Read programs, products and their prices.",
        "MANAGE_CATALOGUE": "Change the distributor's programs, products and prices.",
        "MANAGE_SUBSCRIPTIONS": "Change subscription quantities and cancel subscriptions.",
        "MANAGE_BILLING": "Run the distributor's billing: billing runs, usage, credits.",
        "VIEW_PSA_SYNC": "Read the PSA connection, sync settings and sync runs.",
        "MANAGE_PSA_SYNC": "Change the PSA connection, sync settings and mappings; run syncs.",
        "MANAGE_ORGANISATION": "Change the organisation's own settings, e.g. its time zone.",
        "VIEW_PARTNERS": "List the distributor's partners (the distributor's staff).",
        "MANAGE_PARTNERS": "Onboard partners and invite their first admin (the "
        "distributor's admins).",
    },
)


@strawberry.type(description="A member of the distributor's or a partner's staff.")
class User(relay.Node):
    id: relay.NodeID[int]
    email: str = strawberry.field(description="The sign-in address, in lower case.")
    display_name: str = strawberry.field(description="The name shown to other people.")
    role: UserRole = strawberry.field(  # type: ignore[valid-type]
        description="What the user may do in their organisation."
    )
    status: UserStatus = strawberry.field(  # type: ignore[valid-type]
        description="Invited (no password yet), active, or deactivated."
    )
    created_at: datetime = strawberry.field(description="When the user was invited.")
    last_login_at: datetime | None = strawberry.field(
        description="The last successful sign-in; null when the user never signed in."
    )
    organisation_id: strawberry.Private[int]

    @strawberry.field(description="The organisation the user works for.")
    async def organisation(self, info: Info) -> Organisation | None:
        row = await info.context.loaders.organisation_by_id.load(self.organisation_id)
        return Organisation.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=row.role,
            status=row.status,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            organisation_id=row.organisation_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[User | None]:
        return await load_nodes(info.context.loaders.user_by_id, node_ids, cls.from_model)


@strawberry.type(description="A partner's machine credentials (the secret is never shown again).")
class ApiClient(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="What the credentials are for, as named by people.")
    client_id: str = strawberry.field(
        description="The public half of the credentials, sent as `client_id` to `/oauth/token`."
    )
    created_at: datetime = strawberry.field(description="When the credentials were generated.")
    revoked_at: datetime | None = strawberry.field(
        description="When they were revoked; null while they still work."
    )
    last_used_at: datetime | None = strawberry.field(
        description="The last time a token was issued for them; null when never used."
    )

    @classmethod
    def from_model(cls, row: models.ApiClient) -> ApiClient:
        return cls(
            id=row.id,
            name=row.name,
            client_id=row.client_id,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[ApiClient | None]:
        return await load_nodes(info.context.loaders.api_client_by_id, node_ids, cls.from_model)


@strawberry.type(description="Who is calling, and what they may do.")
class Me:
    kind: PrincipalKind = strawberry.field(  # type: ignore[valid-type]
        description="A staff user, an API client or a customer's contact."
    )
    label: str = strawberry.field(
        description="The caller as the audit log names it: a user's e-mail address, "
        "`api-client:<client id>`, or `contact:<e-mail address>`."
    )
    permissions: list[PermissionEnum] = strawberry.field(  # type: ignore[valid-type]
        description="Everything the caller may do, in alphabetical order."
    )
    applications: list[Application] = strawberry.field(  # type: ignore[valid-type]
        description="The applications of the customer's account a contact may open, as its "
        "role allows; empty for staff and API clients."
    )
    acting_for: Organisation | None = strawberry.field(
        description="The partner distributor staff work as (the `Prism-Acting-For` header); "
        "null otherwise."
    )
    user: User | None = strawberry.field(description="The caller, when it is a staff user.")
    organisation: Organisation | None = strawberry.field(
        description="The caller's own organisation; null for a customer's contact."
    )


@strawberry.type(description="A page of users.")
class UserConnection(Counted, relay.Connection[User]):
    pass
