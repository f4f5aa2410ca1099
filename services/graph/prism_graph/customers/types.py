from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.customers import CustomerStatus as DomainCustomerStatus
from prism_graph.access import requires
from prism_graph.catalogue.types import Program
from prism_graph.common.enums import described, described_enum
from prism_graph.common.errors import UserError, errors_field
from prism_graph.common.loaders import GroupedRows, load_together, now_or_later
from prism_graph.common.nodes import load_nodes
from prism_graph.common.pagination import count_all
from prism_graph.context import Info, Loaders, context_field
from prism_graph.organisations.types import Organisation
from prism_graph.subscriptions.types import Subscription
from prism_graph.tenants.types import Tenant
from prism_tables import customers as models

if TYPE_CHECKING:
    from prism_graph.contacts.types import CustomerContact
    from prism_graph.orders.types import CustomerAttachment, Order

CustomerStatus = described_enum(
    DomainCustomerStatus,
    name="CustomerStatus",
    description="Where a customer is on its way from prospect to customer. A status only "
    "moves forward: prospect, then in progress, then active.",
    values={
        "PROSPECT": "No order submitted yet: every new customer record starts here. Orders "
        "can be drafted and saved for it without changing its status.",
        "IN_PROGRESS": "An order has been submitted and the customer is being onboarded. "
        "Submitting a prospect's first order sets it.",
        "ACTIVE": "Onboarding is complete; set with `updateCustomer`.",
    },
)

# The customer fields whose rows can be read together with a page of customers.
_CHILD_LOADERS: dict[str, Callable[[Loaders], GroupedRows]] = {
    "tenants": lambda loaders: loaders.tenants_by_customer,
    "programs": lambda loaders: loaders.tenants_by_customer,
    "subscriptions": lambda loaders: loaders.subscriptions_by_customer,
    "contacts": lambda loaders: loaders.customer_contacts_by_customer,
}


async def prefetch_children(loaders: Loaders, ids: Sequence[int], fields: set[str]) -> None:
    """Read the rows of every one-to-many field of `fields` for the customers `ids`, one
    statement per kind of child (still filtered by the caller's scope), before the fields
    ask for them."""
    wanted = [_CHILD_LOADERS[name](loaders) for name in sorted(fields & _CHILD_LOADERS.keys())]
    await load_together(loaders.reader, ids, wanted)


@strawberry.type(description="An end customer of a partner, or directly of the distributor.")
class Customer(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(
        description="The company name, 1 to 200 characters; no two customers of the same "
        "partner (or of the distributor) share a name, ignoring case."
    )
    domain: str | None = strawberry.field(
        description="The company's internet domain in lower case, e.g. contoso.com; null when "
        "none was given."
    )
    status: CustomerStatus = strawberry.field(  # type: ignore[valid-type]
        description="A prospect until its first order is submitted, then in progress until "
        "onboarding completes, then active."
    )
    created_at: datetime = strawberry.field(description="When the customer was created (UTC).")
    updated_at: datetime = strawberry.field(
        description="When the customer last changed (UTC), e.g. its name or status."
    )
    owner_id: strawberry.Private[int]

    @strawberry.field(description="The partner or distributor the customer belongs to.")
    async def owner(self, info: Info) -> Organisation:
        row = await info.context.loaders.organisation_by_id.load(self.owner_id)
        assert row is not None  # a foreign key guarantees it
        return Organisation.from_model(row)

    # The list fields below are synchronous when the page already read their rows
    # (`prefetch_children`) and wait for their loader otherwise; they need nothing of `info`
    # but the context, so the schema calls them directly (`context_field`).
    tenants = context_field(
        lambda customer, context: now_or_later(
            context.loaders.tenants_by_customer, customer.id, _tenants
        ),
        description="The customer's accounts in programs (e.g. CSP tenants).",
        graphql_type=list[Tenant],
    )

    @strawberry.field(description="The programs the customer has a tenant in.")
    async def programs(self, info: Info) -> list[Program]:
        rows = await info.context.loaders.tenants_by_customer.load(self.id)
        ids = sorted({r.program_id for r in rows})
        programs = await info.context.loaders.program_by_id.load_many(ids)
        return [Program.from_model(p) for p in programs if p is not None]

    subscriptions = context_field(
        lambda customer, context: now_or_later(
            context.loaders.subscriptions_by_customer, customer.id, _subscriptions
        ),
        description="The customer's subscriptions, oldest first. Submitting an order creates "
        "one for each of its licence and usage products.",
        graphql_type=list[Subscription],
    )

    contacts = context_field(
        lambda customer, context: now_or_later(
            context.loaders.customer_contacts_by_customer, customer.id, _contacts
        ),
        description="The customer account's contacts, oldest first: at most five unless the "
        "deployment allows more.",
        graphql_type=list[
            Annotated["CustomerContact", strawberry.lazy("prism_graph.contacts.types")]
        ],
    )

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDERS)],
        description="The customer's orders, newest first: drafts and submitted ones for the "
        "partner's staff, the submitted ones for the customer's contacts whose role opens the "
        "Order Book.",
    )
    async def orders(
        self, info: Info
    ) -> list[Annotated[Order, strawberry.lazy("prism_graph.orders.types")]]:
        from prism_graph.orders.types import Order

        rows = await info.context.loaders.orders_by_customer.load(self.id)
        return [Order.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_ORDER_DOCUMENTS)],
        description="Documents kept on the customer (e.g. order addenda), newest first. For "
        "the partner's staff and API clients; a customer's contact is refused.",
    )
    async def attachments(
        self, info: Info
    ) -> list[Annotated[CustomerAttachment, strawberry.lazy("prism_graph.orders.types")]]:
        from prism_graph.orders.types import CustomerAttachment

        rows = await info.context.loaders.attachments_by_customer.load(self.id)
        return [CustomerAttachment.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: models.Customer) -> Customer:
        return cls(
            id=row.id,
            name=row.name,
            domain=row.domain,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            owner_id=row.owner_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Customer | None]:
        return await load_nodes(info.context.loaders.customer_by_id, node_ids, cls.from_model)


def _tenants(rows: Iterable[Any]) -> list[Tenant]:
    return [Tenant.from_model(r) for r in rows]


def _subscriptions(rows: Iterable[Any]) -> list[Subscription]:
    return [Subscription.from_model(r) for r in rows]


def _contacts(rows: Iterable[Any]) -> list[CustomerContact]:
    from prism_graph.contacts.types import CustomerContact

    return [CustomerContact.from_model(r) for r in rows]


@described(
    name="CustomerSortField",
    description="What a customer list is ordered by (then by customer, to keep pages stable).",
    values={
        "NAME": "The company name, alphabetically, ignoring case.",
        "CREATED_AT": "When the customer was created.",
    },
)
class CustomerSortField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@described(
    name="SortDirection",
    description="Which way a list is sorted.",
    values={
        "ASC": "Ascending: A to Z, smallest or oldest first.",
        "DESC": "Descending: Z to A, largest or newest first.",
    },
)
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="How a customer list is sorted.")
class CustomerOrder:
    field: CustomerSortField = strawberry.field(
        default=CustomerSortField.NAME, description="What to sort by; the name by default."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (the default) or descending."
    )


@strawberry.type(description="A page of customers.")
class CustomerConnection(relay.Connection[Customer]):
    filtered: strawberry.Private[Select[Any]]

    @strawberry.field(description="How many customers match the filter, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await count_all(info.context.reader.scalar, self.filtered)


@strawberry.input(description="A new customer, which starts as a prospect.")
class CreateCustomerInput:
    name: str = strawberry.field(description="Company name, 1 to 200 characters.")
    domain: str | None = strawberry.field(
        default=None, description="The company's internet domain, e.g. contoso.com; optional."
    )
    partner_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="The partner that sells to this customer. Left out by the distributor's "
        "staff (not acting for a partner): a direct customer of the distributor. A partner's "
        "staff and API clients may leave it out or name their own partner: their customers are "
        "always their partner's.",
    )
    client_mutation_id: str | None = strawberry.field(
        default=None,
        description="Any text of yours, given back unchanged in the payload to match an answer "
        "to its request.",
    )


@strawberry.type(description="The outcome of creating a customer.")
class CreateCustomerPayload:
    customer: Customer | None = strawberry.field(
        description="The new customer, a prospect; null when refused."
    )
    errors: list[UserError] = errors_field()
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's `clientMutationId`, unchanged."
    )
