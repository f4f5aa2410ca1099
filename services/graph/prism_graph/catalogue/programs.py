"""Use cases on programs: creating one, and retiring it.

Retiring a program takes it off the catalogue for new business, and keeps what exists:
- its products are retired with it (off the price list: they cannot be ordered or
  subscribed to, their prices no longer change), and stay retired;
- existing subscriptions keep billing, invoices and the PSA sync go on as for any retired
  product (a product already linked to a PSA service keeps it);
- no tenant can be added in it, and `programs` lists it only with `includeRetired: true`;
  customers' existing tenants stay, so that sync settings and history remain reachable.
Retiring is one way (there is no un-retiring); retiring a retired program changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.money import MoneyError, check_currency
from prism_domain.text import clean_name
from prism_graph.database import Database
from prism_platform.db import utcnow
from prism_tables.catalogue import Product, Program


def retired_program(program: Program, field: str = "programId") -> FieldError:
    return FieldError(
        field, ErrorCode.RETIRED, f"The program {program.name} is retired: it takes nothing new."
    )


async def create_program(
    database: Database, *, name: str | None, currency: str | None
) -> Program | list[FieldError]:
    errors: list[FieldError] = []
    clean = clean_name(name, field="name", label="Program name", max_length=100, errors=errors)
    code = (currency or "").strip().upper()
    try:
        check_currency(code)
    except MoneyError:
        errors.append(
            FieldError("currency", ErrorCode.INVALID, "Currency must be an ISO 4217 code (AUD).")
        )
    if errors:
        return errors
    async with database.unit_of_work() as uow:
        taken = await uow.session.scalar(select(Program.id).where(Program.name == clean))
        if taken is not None:
            return [FieldError("name", ErrorCode.DUPLICATE, f"Program '{clean}' already exists.")]
        program = Program(name=clean, currency=code)
        uow.session.add(program)
        try:
            await uow.session.flush()
        except IntegrityError:
            return [FieldError("name", ErrorCode.DUPLICATE, f"Program '{clean}' already exists.")]
        await uow.commit()
        return program


async def retire_program(database: Database, program_id: int) -> Program | list[FieldError]:
    """Retire the program and every product on its price list (see the module)."""
    async with database.unit_of_work() as uow:
        program = await uow.session.scalar(
            select(Program).where(Program.id == program_id).with_for_update()
        )
        if program is None:
            return [FieldError("id", ErrorCode.NOT_FOUND, "No such program.")]
        if program.retired_at is None:  # retired already: asking again changes nothing
            program.retired_at = utcnow()
            await uow.session.execute(
                update(Product)
                .where(Product.program_id == program.id, Product.retired.is_(False))
                .values(retired=True, updated_at=utcnow())
            )
        await uow.commit()
        return program
