"""Updating a customer (O1): name, domain and status, validated like a new customer.

Status only moves forward (PROSPECT -> IN_PROGRESS -> ACTIVE): submitting an order makes a
prospect a customer in progress (O2), onboarding makes it active; nothing turns it back.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from strawberry import relay

from prism_domain.access import Permission, Scope
from prism_domain.customers import CustomerStatus as DomainStatus
from prism_domain.customers import NewCustomer
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_graph.access import requires, visible_customers
from prism_graph.common.errors import UserError, errors_field, user_errors
from prism_graph.common.ids import node_pk
from prism_graph.context import Info
from prism_graph.customers.types import Customer as CustomerType
from prism_graph.customers.types import CustomerStatus
from prism_graph.database import Database
from prism_tables.customers import Customer, name_key

_ORDER = [DomainStatus.PROSPECT, DomainStatus.IN_PROGRESS, DomainStatus.ACTIVE]


async def update_customer(
    database: Database,
    scope: Scope | None,
    customer_id: int,
    *,
    name: str | None,
    domain: str | None,
    status: DomainStatus | None,
) -> Customer | list[FieldError]:
    async with database.unit_of_work() as uow:
        session = uow.session
        customer = await session.scalar(
            select(Customer).where(Customer.id == customer_id, visible_customers(scope))
        )
        if customer is None:
            return [FieldError("id", ErrorCode.NOT_FOUND, "No such customer.")]
        try:
            new = NewCustomer.parse(
                name=customer.name if name is None else name,
                domain=customer.domain if domain is None else domain,
            )
        except DomainValidationError as exc:
            return exc.errors
        if status is not None and _ORDER.index(status) < _ORDER.index(customer.status):
            return [
                FieldError(
                    "status",
                    ErrorCode.INVALID,
                    f"A customer {customer.status.value} cannot go back to {status.value}.",
                )
            ]
        duplicate = FieldError(
            "name", ErrorCode.DUPLICATE, f"A customer named '{new.name}' already exists."
        )
        taken = await session.scalar(
            select(Customer.id).where(
                Customer.owner_id == customer.owner_id,
                Customer.name_key == name_key(new.name),
                Customer.id != customer.id,
            )
        )
        if taken is not None:
            return [duplicate]
        customer.name, customer.name_key = new.name, name_key(new.name)
        customer.domain = new.domain
        if status is not None:
            customer.status = status
        try:
            await session.flush()
        except IntegrityError:
            return [duplicate]
        await uow.commit()
        return customer


@strawberry.input(description="Changes to a customer; an omitted field is left as it is.")
class UpdateCustomerInput:
    id: relay.GlobalID = strawberry.field(description="The customer to change.")
    name: str | None = strawberry.field(
        default=None,
        description="The new company name, 1 to 200 characters; no other customer of the same "
        "partner may have it (ignoring case).",
    )
    domain: str | None = strawberry.field(
        default=None,
        description="The new internet domain, e.g. contoso.com; an empty string removes it.",
    )
    status: CustomerStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="The new status, forward only (prospect, in progress, active): a status "
        "before the current one is refused.",
    )


@strawberry.type(description="The outcome of a change to a customer.")
class UpdateCustomerPayload:
    customer: CustomerType | None = strawberry.field(
        description="The customer as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type
class CustomerUpdateMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Change a customer's name, domain or status. A status only moves forward; "
        "a name another customer of the partner has is refused.",
    )
    async def update_customer(
        self,
        info: Info,
        input: Annotated[
            UpdateCustomerInput, strawberry.argument(description="The customer and its changes.")
        ],
    ) -> UpdateCustomerPayload:
        result = await update_customer(
            info.context.database,
            info.context.scope,
            node_pk(input.id, "Customer"),
            name=input.name,
            domain=input.domain,
            status=input.status,
        )
        if isinstance(result, list):
            return UpdateCustomerPayload(customer=None, errors=user_errors(result))
        return UpdateCustomerPayload(customer=CustomerType.from_model(result), errors=[])
