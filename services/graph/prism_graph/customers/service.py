"""Use cases on customers: validate with the domain, write, record events, commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from prism_domain.customers import CustomerCreated, NewCustomer
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.organisations import OrganisationKind
from prism_graph.database import Database
from prism_tables.customers import Customer, name_key
from prism_tables.organisations import Organisation


async def create_customer(
    database: Database,
    *,
    partner_id: int | None,
    name: str | None,
    domain: str | None,
) -> Customer | list[FieldError]:
    try:
        new = NewCustomer.parse(name=name, domain=domain)
    except DomainValidationError as exc:
        return exc.errors
    async with database.unit_of_work() as uow:
        session = uow.session
        if partner_id is None:
            owner = await session.scalar(
                select(Organisation).where(Organisation.kind == OrganisationKind.DISTRIBUTOR)
            )
        else:
            owner = await session.scalar(
                select(Organisation).where(
                    Organisation.id == partner_id, Organisation.kind == OrganisationKind.PARTNER
                )
            )
        if owner is None:
            return [FieldError("partnerId", ErrorCode.NOT_FOUND, "No such partner.")]
        duplicate = await session.scalar(
            select(Customer.id).where(
                Customer.owner_id == owner.id, Customer.name_key == name_key(new.name)
            )
        )
        if duplicate is not None:
            return [_duplicate_name(new.name)]
        customer = Customer(
            owner_id=owner.id,
            name=new.name,
            name_key=name_key(new.name),
            domain=new.domain,
            status=new.status,
        )
        session.add(customer)
        try:
            await session.flush()
        except IntegrityError:
            # A concurrent request created the same name between our check and our insert.
            return [_duplicate_name(new.name)]
        uow.record(
            CustomerCreated(
                aggregate_id=str(customer.id),
                partner_id=owner.id if owner.kind == OrganisationKind.PARTNER else None,
                name=customer.name,
                domain=customer.domain,
                status=customer.status.value,
            )
        )
        await uow.commit()
        return customer


def _duplicate_name(name: str) -> FieldError:
    return FieldError("name", ErrorCode.DUPLICATE, f"A customer named '{name}' already exists.")
