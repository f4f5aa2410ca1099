"""What an invoice sync plans from, read without writing, and the plan made from it (S5, S11).

One function reads the database (`gather`), one the PSA's contracts (`contracts_of`), one
plans (`plan_of`): the syncer plans the runs it then applies with them, and a preview (the
API, `prism sync invoices --preview`) plans exactly the same way, so what it shows is what a
run would write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from prism_domain.invoicing import LineKind
from prism_domain.sync import PsaKind
from prism_psa.invoices import sources
from prism_psa.invoices.planning import plan_invoice
from prism_psa.invoices.values import Contract, InvoiceLine, IssuedPeriod, Plan
from prism_psa.port import PsaContract
from prism_tables.sync.connections import CustomerMapping, ProgramSyncSettings


@dataclass(frozen=True)
class Inputs:
    """Everything a plan needs from the database, for one invoice (and maybe one customer)."""

    invoice: sources.IssuedInvoice
    settings: ProgramSyncSettings | None
    #: Synced customers (program and customer sync on) -> their mapping.
    synced: Mapping[int, CustomerMapping]
    lines: list[InvoiceLine]
    #: Customers on the invoice (in the run's scope).
    in_scope: set[int]
    #: Customers whose products Prism manages: on the invoice, or billed before (S11).
    managed: set[int]
    billed: Mapping[int, Mapping[str, LineKind]]
    links: Mapping[str, str | None]  # SKU (casefolded) -> PSA service id
    checked: Mapping[tuple[int, int], date]  # (contract, service) -> first day synced
    periods: list[IssuedPeriod]
    names: Mapping[int, str]

    @property
    def contract_ids(self) -> set[int]:
        """The PSA contracts of the synced customers Prism manages: read before planning."""
        return {self.synced[c].contract_id for c in self.managed if c in self.synced}


def gather(
    session: Session, invoice: sources.IssuedInvoice, customer_id: int | None = None
) -> Inputs:
    """Read what a plan of `invoice` (for `customer_id` only, when given) is made from."""
    partner_id, program_id = invoice.partner_id, invoice.program_id
    settings = sources.settings_of(session, partner_id, program_id)
    maps = sources.mappings(session, partner_id, program_id)
    links = sources.service_ids(session, partner_id, program_id)
    lines = sources.lines_of(session, invoice.id, customer_id)
    program_on = settings is not None and settings.sync_enabled
    synced = {
        c: m
        for c, m in maps.items()
        if program_on and m.sync_enabled and (customer_id is None or c == customer_id)
    }
    # Every synced customer whose products Prism manages, on this invoice or not (S11).
    billed = sources.billed_products(session, partner_id, program_id, synced.keys())
    in_scope = {ln.customer_id for ln in lines}
    managed = in_scope | billed.keys()
    checked = sources.first_synced_days(
        session, partner_id, {synced[c].contract_id for c in managed if c in synced}
    )
    since = min([invoice.period_start, *checked.values()])
    periods = sources.issued_periods(
        session, partner_id, program_id, since, managed & synced.keys()
    )
    names = sources.customer_names(session, managed)
    return Inputs(
        invoice=invoice,
        settings=settings,
        synced=synced,
        lines=lines,
        in_scope=in_scope,
        managed=managed,
        billed=billed,
        links=links,
        checked=checked,
        periods=periods,
        names=names,
    )


def contracts_of(inputs: Inputs, found: Mapping[int, PsaContract]) -> dict[int, Contract]:
    """Each synced customer's contract as the PSA holds it (absent: not usable)."""
    contracts: dict[int, Contract] = {}
    for customer_id in inputs.managed & inputs.synced.keys():
        contract_id = inputs.synced[customer_id].contract_id
        c = found.get(contract_id)
        contracts[customer_id] = (
            Contract(str(contract_id), c.active, c.recurring, c.start, c.end)
            if c is not None
            else Contract(str(contract_id), active=False)
        )
    return contracts


def plan_of(inputs: Inputs, contracts: Mapping[int, Contract]) -> Plan:
    """The run's plan: targets per contract service, checks, and the skipped lines."""
    invoice, settings, billed = inputs.invoice, inputs.settings, inputs.billed
    skus = {ln.sku for ln in inputs.lines} | {s for products in billed.values() for s in products}
    services = {sku: inputs.links.get(sku.casefold()) for sku in skus}
    this = next((p for p in inputs.periods if p.id == invoice.id), None)
    return plan_invoice(
        inputs.lines,
        contracts=contracts,
        services=services,
        sync_usage=bool(settings and settings.sync_azure_usage),
        period=this or IssuedPeriod(invoice.id, invoice.period_start, invoice.period_end),
        invoices=inputs.periods,
        billed={c: billed.get(c, {}) for c in contracts},
        checked_from={(str(c), str(s)): day for (c, s), day in inputs.checked.items()},
        psa=PsaKind(settings.psa) if settings is not None and settings.psa else None,
    )
