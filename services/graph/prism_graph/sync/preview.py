"""The money-level preview of an invoice sync (S5): what a run would write now, read with the
syncer's own planning (`prism_psa.invoices.preview`); nothing is written anywhere."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.sync import PsaKind
from prism_graph.database import Database
from prism_graph.sync import service
from prism_graph.sync.mapping_checks import (
    NO_SUCH_PROGRAM,
    connection_error,
    program_sync_off,
    sync_settings,
)
from prism_psa.connections import PsaConfig
from prism_psa.invoices import sources
from prism_psa.invoices.inputs import Inputs, gather
from prism_psa.invoices.preview import InvoicePreview, preview
from prism_tables.billing import Invoice
from prism_tables.customers import Customer

NO_SUCH_INVOICE = FieldError(
    "invoiceId", ErrorCode.NOT_FOUND, "No such invoice of yours in this program."
)
NO_INVOICE_YET = FieldError(
    "programId", ErrorCode.NOT_FOUND, "No invoice has been issued for this program yet."
)
NO_SUCH_CUSTOMER = FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer of yours.")


async def invoice_preview(
    database: Database,
    config: PsaConfig,
    partner_id: int,
    program_id: int,
    *,
    invoice_id: int | None,
    customer_id: int | None,
) -> InvoicePreview | list[FieldError]:
    """What a sync of the invoice (the given one, or the program's latest) would write now,
    for every synced customer or only `customer_id`; errors when it cannot be made."""
    if not await service.program_exists(database, program_id):
        return [NO_SUCH_PROGRAM]
    async with AsyncSession(database.engine) as session:
        settings = await sync_settings(session, partner_id, program_id)
        if settings is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "This program is not set up.")]
        if not settings.sync_enabled:
            return [program_sync_off("programId")]
        if customer_id is not None:
            owned = await session.scalar(
                select(Customer.id).where(
                    Customer.id == customer_id, Customer.owner_id == partner_id
                )
            )
            if owned is None:
                return [NO_SUCH_CUSTOMER]
        invoices = select(Invoice.id).where(
            Invoice.partner_id == partner_id, Invoice.program_id == program_id
        )
        if invoice_id is not None:
            found = await session.scalar(invoices.where(Invoice.id == invoice_id))
            if found is None:
                return [NO_SUCH_INVOICE]
        else:
            found = await session.scalar(
                invoices.order_by(Invoice.period_start.desc(), Invoice.id.desc()).limit(1)
            )
            if found is None:
                return [NO_INVOICE_YET]
        problem = await connection_error(session, partner_id, program_id)
        if problem is not None:
            return [problem]
        chosen = int(found)
        psa_kind = PsaKind(settings.psa)  # the program's PSA, not always Autotask

        def read(sync_session: Session) -> Inputs:
            invoice = sources.invoice(sync_session, chosen)
            assert invoice is not None
            return gather(sync_session, invoice, customer_id)

        inputs = await session.run_sync(read)
    result = await service.live(
        database, config, partner_id, lambda psa: preview(inputs, psa), psa_kind
    )
    if isinstance(result, FieldError):
        return [result]
    return result
