"""`Database.run`: a use case runs in its caller's one unit of work, which commits once, with
its events, unless the use case answers with errors; a use case it calls with that unit of
work commits with it or not at all (`prism_graph.database`)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from prism_domain.customers import CustomerCreated, CustomerStatus
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.organisations import OrganisationKind
from prism_graph.database import Database, UnitOfWork
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation
from prism_tables.outbox import OutboxEvent
from tests.integration.outbox.test_outbox import count

pytestmark = pytest.mark.integration


async def add_customer(uow: UnitOfWork, owner_id: int, name: str) -> Customer | list[FieldError]:
    """An inner use case: it writes and records an event in the unit of work it is given."""
    if not name:
        return [FieldError("name", ErrorCode.REQUIRED, "A name is required.")]
    customer = Customer(
        owner_id=owner_id, name=name, name_key=name.casefold(), status=CustomerStatus.PROSPECT
    )
    uow.session.add(customer)
    await uow.session.flush()
    uow.record(
        CustomerCreated(
            aggregate_id=str(customer.id),
            partner_id=owner_id,
            name=name,
            domain=None,
            status="PROSPECT",
        )
    )
    return customer


async def add_partner_with_customers(
    uow: UnitOfWork, names: list[str]
) -> Organisation | list[FieldError]:
    """An outer use case: a partner, then each customer through the inner use case."""
    partner = Organisation(kind=OrganisationKind.PARTNER, name="Partner", domain=None)
    uow.session.add(partner)
    await uow.session.flush()
    for name in names:
        added = await add_customer(uow, partner.id, name)
        if isinstance(added, list):
            return added
    return partner


async def test_a_use_case_and_the_one_it_calls_commit_once_together(
    database: Database, sync_engine: Engine
) -> None:
    partner = await database.run(add_partner_with_customers, ["Fabrikam", "Tailspin"])

    assert isinstance(partner, Organisation)
    assert count(sync_engine, Organisation) == 1
    assert count(sync_engine, Customer) == 2
    assert count(sync_engine, OutboxEvent) == 2  # the inner use case's events, committed too


async def test_errors_from_the_inner_use_case_roll_back_everything(
    database: Database, sync_engine: Engine
) -> None:
    errors = await database.run(add_partner_with_customers, ["Fabrikam", ""])

    assert errors == [FieldError("name", ErrorCode.REQUIRED, "A name is required.")]
    # The partner and the first customer were flushed, not committed: nothing stays.
    assert count(sync_engine, Organisation) == 0
    assert count(sync_engine, Customer) == 0
    assert count(sync_engine, OutboxEvent) == 0


async def add_customers(uow: UnitOfWork, owner_id: int, names: list[str]) -> list[Customer]:
    """A use case whose answer is a list of results, not of errors."""
    return [
        c for name in names if isinstance(c := await add_customer(uow, owner_id, name), Customer)
    ]


async def test_a_use_case_answering_with_a_list_of_results_commits(
    database: Database, sync_engine: Engine
) -> None:
    partner = await database.run(add_partner_with_customers, [])
    assert isinstance(partner, Organisation)

    added = await database.run(add_customers, partner.id, ["Fabrikam", "Tailspin"])

    assert [c.name for c in added] == ["Fabrikam", "Tailspin"]
    assert count(sync_engine, Customer) == 2
    assert count(sync_engine, OutboxEvent) == 2
