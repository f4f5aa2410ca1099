"""Tenants (O1): a customer's account in a program; only under an existing customer, and its
domain unique within the program.

A tenant's domain can be corrected; its customer and program cannot change (remove it and
create another). Removing a tenant is refused while it is the customer's last tenant in the
program and the customer still has subscriptions there that are not cancelled: the program's
services are delivered to that tenant. A customer mapping for the PSA sync stays when a
tenant goes (docs/psa-sync.md).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.text import clean_domain
from prism_graph.access import visible_customers, visible_tenants
from prism_graph.catalogue.programs import retired_program
from prism_graph.database import Database
from prism_graph.organisations import zones
from prism_tables.catalogue import Product, Program
from prism_tables.customers import Customer
from prism_tables.subscriptions import Subscription
from prism_tables.tenants import Tenant

NO_TENANT = FieldError("id", ErrorCode.NOT_FOUND, "No such tenant.")


def _clean(domain: str | None, errors: list[FieldError]) -> str | None:
    clean = clean_domain(domain, field="domain", errors=errors)
    if clean is None and not errors:
        errors.append(FieldError("domain", ErrorCode.REQUIRED, "The tenant domain is required."))
    return clean


def _taken(domain: str) -> FieldError:
    return FieldError("domain", ErrorCode.DUPLICATE, f"Tenant {domain} is already in this program.")


async def _domain_taken(
    session: AsyncSession, program_id: int, domain: str, but: int | None = None
) -> bool:
    stmt = select(Tenant.id).where(Tenant.program_id == program_id, Tenant.domain == domain)
    if but is not None:
        stmt = stmt.where(Tenant.id != but)
    return await session.scalar(stmt) is not None


async def create_tenant(
    database: Database, scope: Scope | None, *, customer_id: int, program_id: int, domain: str
) -> Tenant | list[FieldError]:
    errors: list[FieldError] = []
    clean = _clean(domain, errors)
    async with database.unit_of_work() as uow:
        session = uow.session
        customer = await session.scalar(
            select(Customer.id).where(Customer.id == customer_id, visible_customers(scope))
        )
        if customer is None:
            errors.insert(0, FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer."))
        program = await session.get(Program, program_id)
        if program is None:
            errors.append(FieldError("programId", ErrorCode.NOT_FOUND, "No such program."))
        elif program.retired_at is not None:
            errors.append(retired_program(program))
        if errors or clean is None:
            return errors
        if await _domain_taken(session, program_id, clean):
            return [_taken(clean)]
        tenant = Tenant(customer_id=customer_id, program_id=program_id, domain=clean)
        session.add(tenant)
        try:
            await session.flush()
        except IntegrityError:
            return [_taken(clean)]
        await uow.commit()
        return tenant


async def _visible_tenant(
    session: AsyncSession, scope: Scope | None, tenant_id: int
) -> Tenant | None:
    return await session.scalar(
        select(Tenant).where(Tenant.id == tenant_id, visible_tenants(scope)).with_for_update()
    )


async def update_tenant(
    database: Database, scope: Scope | None, tenant_id: int, *, domain: str | None
) -> Tenant | list[FieldError]:
    """Correct a tenant's domain (still unique within its program)."""
    errors: list[FieldError] = []
    clean = _clean(domain, errors)
    async with database.unit_of_work() as uow:
        session = uow.session
        tenant = await _visible_tenant(session, scope, tenant_id)
        if tenant is None:
            return [NO_TENANT]
        if errors or clean is None:
            return errors
        if clean != tenant.domain:
            if await _domain_taken(session, tenant.program_id, clean, but=tenant.id):
                return [_taken(clean)]
            tenant.domain = clean
            try:
                await session.flush()
            except IntegrityError:
                return [_taken(clean)]
        await uow.commit()
        return tenant


async def remove_tenant(
    database: Database, scope: Scope | None, tenant_id: int
) -> int | list[FieldError]:
    """Remove a tenant; refused while it is all the customer has in a program it still
    subscribes to (see the module)."""
    async with database.unit_of_work() as uow:
        session = uow.session
        tenant = await _visible_tenant(session, scope, tenant_id)
        if tenant is None:
            return [NO_TENANT]
        others = await session.scalar(
            select(func.count())
            .select_from(Tenant)
            .where(
                Tenant.customer_id == tenant.customer_id,
                Tenant.program_id == tenant.program_id,
                Tenant.id != tenant.id,
            )
        )
        if not others:
            customer = await session.get(Customer, tenant.customer_id)
            owner = customer.owner_id if customer is not None else None
            today = await zones.today_for(session.scalar, owner)
            live = await _live_subscriptions(session, tenant, today)
            if live:
                program = await session.get(Program, tenant.program_id)
                name = program.name if program is not None else "this program"
                return [
                    FieldError(
                        "id",
                        ErrorCode.NOT_ALLOWED,
                        f"The customer still has {live} subscription(s) in {name}, delivered to "
                        "this tenant: cancel them, or add the customer's new tenant first.",
                    )
                ]
        removed = tenant.id
        await session.delete(tenant)
        await uow.commit()
        return removed


async def _live_subscriptions(session: AsyncSession, tenant: Tenant, today: date) -> int:
    """The customer's subscriptions in the tenant's program not cancelled by today."""
    count = await session.scalar(
        select(func.count())
        .select_from(Subscription)
        .join(Product, Product.id == Subscription.product_id)
        .where(
            Subscription.customer_id == tenant.customer_id,
            Product.program_id == tenant.program_id,
            or_(Subscription.cancelled_from.is_(None), Subscription.cancelled_from > today),
        )
    )
    return int(count or 0)
