"""What the mapping screen and the manual invoice sync check before they store anything:
which customers can be mapped, the PSA company and contract (live), the connection and the
program's sync switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.sync import ConnectionStatus, InvoiceSyncRequested, PsaKind, SyncTrigger
from prism_graph.sync import service
from prism_psa.connections import Adapter
from prism_tables.customers import Customer
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection
from prism_tables.tenants import Tenant

#: Companies read live for suggestions: one query, at most this many candidates (N3).

NO_SUCH_PROGRAM = FieldError("programId", ErrorCode.NOT_FOUND, "No such program.")
NO_SUCH_CUSTOMER = FieldError(
    "customerId",
    ErrorCode.NOT_FOUND,
    "No such customer with a tenant in this program.",
)
NOT_MAPPED = FieldError(
    "customerId",
    ErrorCode.NOT_ALLOWED,
    "The customer is not mapped yet: map it to a company and contract of the PSA first.",
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


def check_company_and_contract(
    psa: Adapter, company_id: int, contract_id: int, today: date
) -> tuple[str, str] | list[FieldError]:
    """S4: the company exists and is active; the contract is that company's, an active
    Recurring Service contract. The names to display, or every reason it cannot be mapped."""
    label = psa_label(psa)
    company = psa.company(company_id) if company_id > 0 else None
    if company is None:
        return [
            FieldError("companyId", ErrorCode.NOT_FOUND, f"No active {label} company with this id.")
        ]
    contract = psa.contract(contract_id, today) if contract_id > 0 else None
    if contract is None:
        return [FieldError("contractId", ErrorCode.NOT_FOUND, f"No {label} contract with this id.")]
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
                "Recurring Service contracts can be synced."
                if label == "Autotask"
                else f"The agreement {contract.name!r} does not bill additions (its type has "
                "no billing cycle, or it is not prorating additions); choose a recurring "
                "agreement.",
            )
        )
    if not contract.active:
        errors.append(
            FieldError(
                "contractId",
                ErrorCode.NOT_ALLOWED,
                f"The contract {contract.name!r} is not active: it must be active and today "
                f"must be between its start and end dates (review the contract in {label}).",
            )
        )
    return errors or (company.name, contract.name)


def psa_label(psa: Adapter) -> str:
    return psa.kind.label


async def program_psa(session: AsyncSession, partner_id: int, program_id: int) -> PsaKind:
    """The PSA the program syncs to (Autotask until its settings say otherwise)."""
    psa = await session.scalar(
        select(ProgramSyncSettings.psa).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )
    return PsaKind(psa) if psa else PsaKind.AUTOTASK


async def connection_error(
    session: AsyncSession, partner_id: int, program_id: int
) -> FieldError | None:
    """Why the program cannot reach its PSA now (no connection, or one failing), or None."""
    psa = await program_psa(session, partner_id, program_id)
    row = await session.scalar(
        select(PsaConnection).where(
            PsaConnection.partner_id == partner_id, PsaConnection.psa == psa.value
        )
    )
    if row is None:
        return service.not_connected(psa)
    if row.status != ConnectionStatus.OK.value:
        return FieldError(
            None,
            ErrorCode.PSA_NOT_CONNECTED,
            f"The {psa.label} connection failed its last test: fix it on the Connections "
            "screen and test it again.",
        )
    return None


async def sync_settings(
    session: AsyncSession, partner_id: int, program_id: int
) -> ProgramSyncSettings | None:
    return await session.scalar(
        select(ProgramSyncSettings).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )


def program_sync_off(field: str) -> FieldError:
    return FieldError(
        field,
        ErrorCode.NOT_ALLOWED,
        "Sync is off for this program: turn it on in the program's sync settings first.",
    )


def sync_request(
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
