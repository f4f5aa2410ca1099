"""Tenants (O1): a customer's account in a program; only under an existing customer, and its
domain unique within the program."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from prism_domain.access import Scope
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.text import clean_domain
from prism_graph.access import visible_customers
from prism_graph.database import Database
from prism_tables.catalogue import Program
from prism_tables.customers import Customer
from prism_tables.tenants import Tenant


async def create_tenant(
    database: Database, scope: Scope | None, *, customer_id: int, program_id: int, domain: str
) -> Tenant | list[FieldError]:
    errors: list[FieldError] = []
    clean = clean_domain(domain, field="domain", errors=errors)
    if clean is None and not errors:
        errors.append(FieldError("domain", ErrorCode.REQUIRED, "The tenant domain is required."))
    async with database.unit_of_work() as uow:
        session = uow.session
        customer = await session.scalar(
            select(Customer.id).where(Customer.id == customer_id, visible_customers(scope))
        )
        if customer is None:
            errors.insert(0, FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer."))
        if await session.get(Program, program_id) is None:
            errors.append(FieldError("programId", ErrorCode.NOT_FOUND, "No such program."))
        if errors or clean is None:
            return errors
        taken = FieldError(
            "domain", ErrorCode.DUPLICATE, f"Tenant {clean} is already in this program."
        )
        if await session.scalar(
            select(Tenant.id).where(Tenant.program_id == program_id, Tenant.domain == clean)
        ):
            return [taken]
        tenant = Tenant(customer_id=customer_id, program_id=program_id, domain=clean)
        session.add(tenant)
        try:
            await session.flush()
        except IntegrityError:
            return [taken]
        await uow.commit()
        return tenant
