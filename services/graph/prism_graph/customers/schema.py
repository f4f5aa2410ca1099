"""Customer queries and mutations (SPEC O1)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import or_, select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import FieldError
from prism_graph.access import owner_for_new_customer, requires, visible_customers
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.loaders import record_columns
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.common.selection import selected_below
from prism_graph.context import Info
from prism_graph.customers import service
from prism_graph.customers.types import (
    CreateCustomerInput,
    CreateCustomerPayload,
    Customer,
    CustomerConnection,
    CustomerOrder,
    CustomerSortField,
    CustomerStatus,
    SortDirection,
    prefetch_children,
)
from prism_tables import customers as models
from prism_tables.catalogue import Product
from prism_tables.subscriptions import Subscription
from prism_tables.tenants import Tenant

_SORT_COLUMNS = {
    CustomerSortField.NAME: (models.Customer.name_key, models.Customer.id),
    CustomerSortField.CREATED_AT: (models.Customer.created_at, models.Customer.id),
}


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CUSTOMERS)],
        description="Customers, searched by name or domain, filtered by status (e.g. the "
        "prospect list, or those in progress) and by program, paged by cursor.",
    )
    async def customers(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Text to find in the name or the domain, ignoring case; omitted or "
                "blank: no search."
            ),
        ] = None,
        status: Annotated[
            list[CustomerStatus] | None,  # type: ignore[valid-type]
            strawberry.argument(
                description="Only customers in one of these statuses; omitted: every status."
            ),
        ] = None,
        program_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(
                description="Only customers with a tenant or a subscription in this program."
            ),
        ] = None,
        order_by: Annotated[
            CustomerOrder | None,
            strawberry.argument(description="How to sort; by name, ascending, when omitted."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> CustomerConnection:
        order = order_by or CustomerOrder()
        stmt = select(*record_columns(models.Customer)).where(visible_customers(info.context.scope))
        text = (search or "").strip().casefold()
        if text:
            pattern = _like_pattern(text)
            stmt = stmt.where(
                or_(
                    models.Customer.name_key.like(pattern, escape="\\"),
                    models.Customer.domain.like(pattern, escape="\\"),
                )
            )
        if status:
            stmt = stmt.where(models.Customer.status.in_(list(status)))
        if program_id is not None:
            program = node_pk(program_id, "Program")
            stmt = stmt.where(
                or_(
                    models.Customer.id.in_(
                        select(Tenant.customer_id).where(Tenant.program_id == program)
                    ),
                    models.Customer.id.in_(
                        select(Subscription.customer_id)
                        .join(Product, Product.id == Subscription.product_id)
                        .where(Product.program_id == program)
                    ),
                )
            )
        key = SortKey(_SORT_COLUMNS[order.field], descending=order.direction == SortDirection.DESC)
        page: Page[Any] = await paginate(
            info.context.reader.core_rows,
            stmt,
            key,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        await prefetch_children(
            info.context.loaders,
            [row.id for row in page.items],
            selected_below(info.selected_fields, ("customers", "edges", "node")),
        )
        return connection(CustomerConnection, page, Customer.from_model, filtered=stmt)

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_CUSTOMERS)],
        description="One customer by id; null when there is none you may see (another "
        "partner's customer is answered like one that does not exist).",
    )
    async def customer(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The customer's id.")],
    ) -> Customer | None:
        pk = node_pk(id, "Customer")
        row = await info.context.loaders.customer_by_id.load(pk) if pk >= 0 else None
        return Customer.from_model(row) if row else None


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Create a customer, a prospect until an order is submitted for it. A name "
        "another customer of the partner already has is refused.",
    )
    async def create_customer(
        self,
        info: Info,
        input: Annotated[CreateCustomerInput, strawberry.argument(description="The new customer.")],
    ) -> CreateCustomerPayload:
        assert info.context.principal is not None
        partner_id = owner_for_new_customer(info.context.principal, input.partner_id)
        if isinstance(partner_id, FieldError):
            return CreateCustomerPayload(
                customer=None,
                errors=user_errors([partner_id]),
                client_mutation_id=input.client_mutation_id,
            )
        result = await service.create_customer(
            info.context.database, partner_id=partner_id, name=input.name, domain=input.domain
        )
        if isinstance(result, list):
            return CreateCustomerPayload(
                customer=None,
                errors=user_errors(result),
                client_mutation_id=input.client_mutation_id,
            )
        return CreateCustomerPayload(
            customer=Customer.from_model(result),
            errors=[],
            client_mutation_id=input.client_mutation_id,
        )
