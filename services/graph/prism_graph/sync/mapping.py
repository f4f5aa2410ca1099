"""Use cases of the customer mapping screen (S4, S9) and of the manual invoice sync (S5);
their checks are in `mapping_checks`, suggestions in `suggestions`.

A mapping ties one of the partner's customers, in one program, to a PSA company and an
active Recurring Service contract of that company. Both are checked live before anything is
stored; their names are kept for display. "Save and sync now" records
`invoice_sync.requested` in the same transaction as the mapping (outbox).

Which customers can be mapped: the partner's own customers that have a tenant in the program
(the seed syncs "a PRISM Customer/Tenant"). Any other customer id (another partner's, a
direct customer of the distributor, or one without a tenant in the program) is NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.sync import SyncTrigger
from prism_graph.database import Database
from prism_graph.organisations import zones
from prism_graph.sync import service

#: Companies read live for suggestions: one query, at most this many candidates (N3).
from prism_graph.sync.mapping_checks import (
    NO_SUCH_CUSTOMER,
    NO_SUCH_PROGRAM,
    NOT_MAPPED,
    check_company_and_contract,
    connection_error,
    mappable_customer,
    program_psa,
    program_sync_off,
    sync_request,
    sync_settings,
)
from prism_psa.connections import PsaConfig
from prism_tables.billing import Invoice
from prism_tables.customers import Customer
from prism_tables.sync.connections import CustomerMapping, PsaConnection

# Use cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    mapping: CustomerMapping
    sync_requested: bool


async def save_mapping(
    database: Database,
    config: PsaConfig,
    partner_id: int,
    *,
    program_id: int,
    customer_id: int,
    company_id: int,
    contract_id: int,
    sync_enabled: bool,
    sync_now: bool,
) -> Saved | list[FieldError]:
    """S4 "SAVE" / "SAVE AND SYNC NOW": checked live, stored, and with `sync_now` the
    customer's sync requested in the same transaction. Nothing is written on any error."""
    if not await service.program_exists(database, program_id):
        return [NO_SUCH_PROGRAM]
    async with AsyncSession(database.engine) as session:
        customer = await mappable_customer(session, partner_id, program_id, customer_id)
        if customer is None:
            return [NO_SUCH_CUSTOMER]
        if sync_now and not sync_enabled:
            return [
                FieldError(
                    "syncNow",
                    ErrorCode.NOT_ALLOWED,
                    "Turn the customer's sync on to save and sync now (or just save).",
                )
            ]
        if sync_now:
            settings = await sync_settings(session, partner_id, program_id)
            if settings is None or not settings.sync_enabled:
                return [program_sync_off("syncNow")]
        problem = await connection_error(session, partner_id, program_id)
        if problem is not None:
            return [problem]
        # Whether the contract is in force today is the partner's today, not UTC's.
        today = await zones.today_for(session.scalar, partner_id)
        psa = await program_psa(session, partner_id, program_id)
    checked = await service.live(
        database,
        config,
        partner_id,
        lambda adapter: check_company_and_contract(adapter, company_id, contract_id, today),
        psa,
    )
    if isinstance(checked, FieldError):
        return [checked]
    if isinstance(checked, list):
        return checked
    company_name, contract_name = checked
    async with database.unit_of_work() as uow:
        # One save of the partner's mappings at a time (PostgreSQL: the connection row's lock;
        # SQLite: the write lock), so that the contract check below cannot race.
        await uow.session.execute(
            select(PsaConnection.id).where(PsaConnection.partner_id == partner_id).with_for_update()
        )
        holder = await uow.session.scalar(
            select(Customer.name)
            .join(CustomerMapping, CustomerMapping.customer_id == Customer.id)
            .where(
                CustomerMapping.partner_id == partner_id,
                CustomerMapping.contract_id == contract_id,
                CustomerMapping.customer_id != customer_id,
            )
            .limit(1)
        )
        if holder is not None:
            return [_contract_taken(contract_name, holder)]
        row = await uow.session.scalar(
            select(CustomerMapping).where(
                CustomerMapping.partner_id == partner_id,
                CustomerMapping.program_id == program_id,
                CustomerMapping.customer_id == customer_id,
            )
        )
        if row is None:
            row = CustomerMapping(
                partner_id=partner_id, program_id=program_id, customer_id=customer_id
            )
            uow.session.add(row)
        # The mapping is to the program's PSA now (a program moved to another PSA maps again).
        row.psa = psa.value
        row.company_id = company_id
        row.company_name = company_name
        row.contract_id = contract_id
        row.contract_name = contract_name
        row.sync_enabled = sync_enabled
        if sync_now:
            uow.record(
                sync_request(
                    partner_id, program_id, SyncTrigger.SAVE_AND_SYNC, customer_id=customer_id
                )
            )
        try:
            await uow.commit()
        except IntegrityError:
            # Another save of the same customer won the race (PostgreSQL; SQLite's write lock
            # serialises the read above), or the customer went meanwhile: nothing was written.
            return [
                FieldError(
                    "customerId",
                    ErrorCode.CONFLICT,
                    "The customer's mapping changed while saving: load it again and save.",
                )
            ]
        return Saved(row, sync_now)


def _contract_taken(contract_name: str, holder: str) -> FieldError:
    """A contract's services carry one customer's quantities: a second customer's invoice
    lines would overwrite the first's units (S4, S5)."""
    return FieldError(
        "contractId",
        ErrorCode.CONFLICT,
        f"The contract {contract_name} is already mapped to {holder}: a contract's services "
        "carry one customer's quantities. Choose this customer's own contract, or remove the "
        "other mapping first.",
    )


async def _mapping_of(
    session: AsyncSession, partner_id: int, program_id: int, customer_id: int
) -> CustomerMapping | FieldError:
    row = await session.scalar(
        select(CustomerMapping).where(
            CustomerMapping.partner_id == partner_id,
            CustomerMapping.program_id == program_id,
            CustomerMapping.customer_id == customer_id,
        )
    )
    if row is not None:
        return row
    owned = await session.scalar(
        select(Customer.id).where(Customer.id == customer_id, Customer.owner_id == partner_id)
    )
    return NOT_MAPPED if owned is not None else NO_SUCH_CUSTOMER


async def set_customer_sync(
    database: Database, partner_id: int, program_id: int, customer_id: int, enabled: bool
) -> CustomerMapping | list[FieldError]:
    """S9: the customer's sync on or off, mapping untouched; switching back on is safe (the
    next invoice sync sets the PSA to what the invoice says, S10)."""
    async with database.unit_of_work() as uow:
        row = await _mapping_of(uow.session, partner_id, program_id, customer_id)
        if isinstance(row, FieldError):
            return [row]
        row.sync_enabled = enabled
        await uow.commit()
        return row


async def remove_mapping(
    database: Database, partner_id: int, program_id: int, customer_id: int
) -> list[FieldError]:
    """Unmap: the customer is no longer synced; what was synced stays in the PSA."""
    async with database.unit_of_work() as uow:
        row = await _mapping_of(uow.session, partner_id, program_id, customer_id)
        if isinstance(row, FieldError):
            return [row]
        await uow.session.delete(row)
        await uow.commit()
        return []


async def request_invoice_sync(
    database: Database, partner_id: int, program_id: int, invoice_id: int | None
) -> Invoice | list[FieldError]:
    """S5 manual run: the given invoice of the partner, or the program's latest issued one;
    recorded as `invoice_sync.requested` (MANUAL) in the outbox."""
    if not await service.program_exists(database, program_id):
        return [NO_SUCH_PROGRAM]
    async with database.unit_of_work() as uow:
        settings = await sync_settings(uow.session, partner_id, program_id)
        if settings is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "This program is not set up.")]
        if not settings.sync_enabled:
            return [program_sync_off("programId")]
        invoices = select(Invoice).where(
            Invoice.partner_id == partner_id, Invoice.program_id == program_id
        )
        if invoice_id is not None:
            invoice = await uow.session.scalar(invoices.where(Invoice.id == invoice_id))
            if invoice is None:
                return [
                    FieldError(
                        "invoiceId",
                        ErrorCode.NOT_FOUND,
                        "No such invoice of yours in this program.",
                    )
                ]
        else:
            invoice = await uow.session.scalar(
                invoices.order_by(Invoice.period_start.desc(), Invoice.id.desc()).limit(1)
            )
            if invoice is None:
                return [
                    FieldError(
                        "programId",
                        ErrorCode.NOT_FOUND,
                        "No invoice has been issued for this program yet.",
                    )
                ]
        problem = await connection_error(uow.session, partner_id, program_id)
        if problem is not None:
            return [problem]
        uow.record(sync_request(partner_id, program_id, SyncTrigger.MANUAL, invoice_id=invoice.id))
        await uow.commit()
        return invoice
