"""Use cases of the customer mapping screen (S4, S9) and of the manual invoice sync (S5).

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
from datetime import date
from itertools import islice

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from autotask_client import query as q
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.mapping import Candidate, Suggestion, name_key, registrable, suggest
from prism_domain.sync import ConnectionStatus, InvoiceSyncRequested, SyncTrigger
from prism_graph.billing.models import Invoice
from prism_graph.customers.models import Customer
from prism_graph.customers.tenant_models import Tenant
from prism_graph.database import Database
from prism_graph.organisations import zones
from prism_graph.psa import service
from prism_syncer.psa.autotask import (
    ACTIVE_CONTRACT_STATUS,
    RECURRING_SERVICE_CONTRACT,
    AutotaskPsa,
    translated,
)
from prism_syncer.psa.connections import AUTOTASK, PsaConfig
from prism_syncer.psa.models import CustomerMapping, ProgramSyncSettings, PsaConnection

#: Companies read live for suggestions: one query, at most this many candidates (N3).
SUGGESTION_CANDIDATES = 200
_MAX_NAME_WORDS = 4
_MAX_DOMAINS = 4

NO_SUCH_PROGRAM = FieldError("programId", ErrorCode.NOT_FOUND, "No such program.")
NO_SUCH_CUSTOMER = FieldError(
    "customerId",
    ErrorCode.NOT_FOUND,
    "No such customer with a tenant in this program.",
)
NOT_MAPPED = FieldError(
    "customerId",
    ErrorCode.NOT_ALLOWED,
    "The customer is not mapped yet: map it to an Autotask company and contract first.",
)


@dataclass(frozen=True)
class MappableCustomer:
    id: int
    name: str
    domains: tuple[str, ...]  # the customer's own domain and its tenants' in the program


async def mappable_customer(
    session: AsyncSession, partner_id: int, program_id: int, customer_id: int
) -> MappableCustomer | None:
    """The partner's customer with its tenant domains in the program; None if it has none."""
    if customer_id <= 0 or program_id <= 0:
        return None
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.owner_id == partner_id)
    )
    if customer is None:
        return None
    tenants = (
        await session.scalars(
            select(Tenant.domain)
            .where(Tenant.customer_id == customer_id, Tenant.program_id == program_id)
            .order_by(Tenant.domain)
        )
    ).all()
    if not tenants:
        return None
    domains = tuple(d for d in (customer.domain, *tenants) if d)
    return MappableCustomer(customer.id, customer.name, domains)


# Live checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFacts:
    id: int
    name: str
    company_id: int | None
    recurring_service: bool
    active: bool


def contract_facts(psa: AutotaskPsa, contract_id: int, today: date) -> ContractFacts | None:
    """One contract read by id (a `PsaDirectory` read kept here while the port grows)."""
    with translated():
        raw = psa.client.contracts.get(contract_id)
    if raw is None:
        return None
    starts, ends = raw.start_date, raw.end_date
    return ContractFacts(
        id=int(raw.id or contract_id),
        name=raw.contract_name or "",
        company_id=raw.company_id,
        recurring_service=raw.contract_type == RECURRING_SERVICE_CONTRACT,
        active=raw.status == ACTIVE_CONTRACT_STATUS
        and (starts is None or starts <= today)
        and (ends is None or today <= ends),
    )


def check_company_and_contract(
    psa: AutotaskPsa, company_id: int, contract_id: int, today: date
) -> tuple[str, str] | list[FieldError]:
    """S4: the company exists and is active; the contract is that company's, an active
    Recurring Service contract. The names to display, or every reason it cannot be mapped."""
    company = psa.company(company_id) if company_id > 0 else None
    if company is None:
        return [
            FieldError("companyId", ErrorCode.NOT_FOUND, "No active Autotask company with this id.")
        ]
    contract = contract_facts(psa, contract_id, today) if contract_id > 0 else None
    if contract is None:
        return [FieldError("contractId", ErrorCode.NOT_FOUND, "No Autotask contract with this id.")]
    errors: list[FieldError] = []
    if contract.company_id != company.id:
        errors.append(
            FieldError(
                "contractId",
                ErrorCode.INVALID,
                f"The contract {contract.name!r} belongs to another company, not to "
                f"{company.name!r}: choose one of this company's contracts.",
            )
        )
    if not contract.recurring_service:
        errors.append(
            FieldError(
                "contractId",
                ErrorCode.NOT_ALLOWED,
                f"The contract {contract.name!r} is not a Recurring Service contract; only "
                "Recurring Service contracts can be synced.",
            )
        )
    if not contract.active:
        errors.append(
            FieldError(
                "contractId",
                ErrorCode.NOT_ALLOWED,
                f"The contract {contract.name!r} is not active: it must be active and today "
                "must be between its start and end dates (review the contract in Autotask).",
            )
        )
    return errors or (company.name, contract.name)


async def _connection_error(session: AsyncSession, partner_id: int) -> FieldError | None:
    row = await session.scalar(
        select(PsaConnection).where(
            PsaConnection.partner_id == partner_id, PsaConnection.psa == AUTOTASK
        )
    )
    if row is None:
        return service.NOT_CONNECTED
    if row.status != ConnectionStatus.OK.value:
        return FieldError(
            None,
            ErrorCode.PSA_NOT_CONNECTED,
            "The Autotask connection failed its last test: fix it on the Connections screen "
            "and test it again.",
        )
    return None


async def _settings(
    session: AsyncSession, partner_id: int, program_id: int
) -> ProgramSyncSettings | None:
    return await session.scalar(
        select(ProgramSyncSettings).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )


def _program_sync_off(field: str) -> FieldError:
    return FieldError(
        field,
        ErrorCode.NOT_ALLOWED,
        "Sync is off for this program: turn it on in the program's sync settings first.",
    )


def _request(
    partner_id: int,
    program_id: int,
    trigger: SyncTrigger,
    *,
    customer_id: int | None = None,
    invoice_id: int | None = None,
) -> InvoiceSyncRequested:
    return InvoiceSyncRequested(
        aggregate_id=f"{partner_id}:{program_id}",
        partner_id=partner_id,
        program_id=program_id,
        customer_id=customer_id,
        invoice_id=invoice_id,
        trigger=trigger.value,
    )


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
            settings = await _settings(session, partner_id, program_id)
            if settings is None or not settings.sync_enabled:
                return [_program_sync_off("syncNow")]
        problem = await _connection_error(session, partner_id)
        if problem is not None:
            return [problem]
        # Whether the contract is in force today is the partner's today, not UTC's.
        today = await zones.today_for(session.scalar, partner_id)
    checked = await service.live(
        database,
        config,
        partner_id,
        lambda psa: check_company_and_contract(psa, company_id, contract_id, today),
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
                partner_id=partner_id, program_id=program_id, customer_id=customer_id, psa=AUTOTASK
            )
            uow.session.add(row)
        row.company_id = company_id
        row.company_name = company_name
        row.contract_id = contract_id
        row.contract_name = contract_name
        row.sync_enabled = sync_enabled
        if sync_now:
            uow.record(
                _request(partner_id, program_id, SyncTrigger.SAVE_AND_SYNC, customer_id=customer_id)
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


def candidates(psa: AutotaskPsa, customer: MappableCustomer) -> list[Candidate]:
    """Active companies whose name shares a word with the customer's, or whose web address
    contains one of its domains' stems: one query (N3), capped."""
    words = [w for w in name_key(customer.name).split() if len(w) >= 3][:_MAX_NAME_WORDS]
    stems = sorted({d.split(".")[0] for d in (registrable(x) for x in customer.domains) if d})[
        :_MAX_DOMAINS
    ]
    probes: list[q.Filter] = [q.contains("companyName", w) for w in words]
    probes += [q.contains("webAddress", s) for s in stems if len(s) >= 3]
    if not probes:
        return []
    with translated():
        found = islice(
            psa.client.companies.query(q.eq("isActive", True), q.or_(*probes)),
            SUGGESTION_CANDIDATES,
        )
        return [
            Candidate(
                id=int(c.id or 0),
                name=c.company_name or "",
                web_domain=(c.model_extra or {}).get("webAddress"),
            )
            for c in found
        ]


async def suggestions(
    database: Database,
    config: PsaConfig,
    partner_id: int,
    program_id: int,
    customer_id: int,
    limit: int,
) -> list[Suggestion] | FieldError | None:
    """S4: the likeliest companies for the customer, ranked; None for an unknown customer.
    A suggestion is never applied: the user picks one and saves."""
    async with AsyncSession(database.engine) as session:
        customer = await mappable_customer(session, partner_id, program_id, customer_id)
    if customer is None:
        return None
    found = await service.live(database, config, partner_id, lambda psa: candidates(psa, customer))
    if isinstance(found, FieldError):
        return found
    return suggest(customer.name, customer.domains, found, limit=limit)


async def request_invoice_sync(
    database: Database, partner_id: int, program_id: int, invoice_id: int | None
) -> Invoice | list[FieldError]:
    """S5 manual run: the given invoice of the partner, or the program's latest issued one;
    recorded as `invoice_sync.requested` (MANUAL) in the outbox."""
    if not await service.program_exists(database, program_id):
        return [NO_SUCH_PROGRAM]
    async with database.unit_of_work() as uow:
        settings = await _settings(uow.session, partner_id, program_id)
        if settings is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "This program is not set up.")]
        if not settings.sync_enabled:
            return [_program_sync_off("programId")]
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
        problem = await _connection_error(uow.session, partner_id)
        if problem is not None:
            return [problem]
        uow.record(_request(partner_id, program_id, SyncTrigger.MANUAL, invoice_id=invoice.id))
        await uow.commit()
        return invoice
