"""The product plan's inputs and the plan itself, read without writing anything.

Both services use it: the API to preview a product sync (what would be created, updated,
left alone), the syncer to plan the run it then applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_domain.sync import ProductSyncMode
from prism_psa.invoices.sources import program_psa
from prism_psa.port import PsaPort
from prism_psa.products import sources
from prism_psa.products.planning import CatalogueItem, Link, Plan, needs_name_lookup, plan_products
from prism_tables.sync.connections import ProgramSyncSettings
from prism_tables.sync.products import ProductServiceLink


@dataclass(frozen=True)
class Inputs:
    items: list[CatalogueItem]
    links: dict[int, Link]


def links_of(session: Session, partner_id: int, program_id: int) -> dict[int, ProductServiceLink]:
    rows = session.scalars(
        select(ProductServiceLink).where(
            ProductServiceLink.partner_id == partner_id,
            ProductServiceLink.psa == program_psa(session, partner_id, program_id).value,
            ProductServiceLink.program_id == program_id,
        )
    )
    return {r.product_id: r for r in rows}


def gather(
    session: Session, partner_id: int, program_id: int, mode: ProductSyncMode, now: datetime
) -> Inputs:
    """The products this sync is about, and their stored links.

    ALL: the price list (products not retired). IN_USE: those of them on the invoices of
    synced customers. Either way, retired products that are linked or still invoiced are
    kept in view, so that they are reported rather than silently dropped; a product gone
    from the price list never loses its service.
    """
    catalogue = sources.price_list(session, program_id, now.date())
    rows = links_of(session, partner_id, program_id)
    in_use = sources.in_use_skus(session, partner_id, program_id)
    chosen = []
    for item in catalogue:
        used = item.sku.casefold() in in_use
        if item.retired:
            if item.product_id in rows or used:
                chosen.append(item)
        elif mode is ProductSyncMode.ALL or used:
            chosen.append(item)
    links = {
        r.product_id: Link(r.product_id, r.service_id, manual=r.origin == "MANUAL")
        for r in rows.values()
    }
    return Inputs(chosen, links)


def make_plan(psa: PsaPort, inputs: Inputs) -> Plan:
    """Read the PSA (two queries at most) and plan; writes nothing."""
    by_id = psa.services_by_id(link.service_id for link in inputs.links.values())
    names = needs_name_lookup(inputs.items, inputs.links, by_id)
    by_name = psa.services_by_name(names)
    return plan_products(inputs.items, inputs.links, by_id, by_name, psa.limits())


def settings_of(session: Session, partner_id: int, program_id: int) -> ProgramSyncSettings | None:
    return session.scalar(
        select(ProgramSyncSettings).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )


def preview(
    session: Session, psa: PsaPort, partner_id: int, program_id: int, now: datetime
) -> Plan:
    settings = settings_of(session, partner_id, program_id)
    mode = ProductSyncMode(settings.product_sync_mode) if settings else ProductSyncMode.ALL
    return make_plan(psa, gather(session, partner_id, program_id, mode, now))
