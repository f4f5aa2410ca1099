"""Suggested PSA companies for a customer (S4): candidates read live, ranked by the domain."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.errors import FieldError
from prism_domain.mapping import Candidate, Suggestion, name_key, registrable, suggest
from prism_graph.database import Database
from prism_graph.sync import service
from prism_graph.sync.mapping_checks import MappableCustomer, mappable_customer, program_psa
from prism_psa.connections import Adapter, PsaConfig

#: Companies read live for suggestions: one query, at most this many candidates (N3).
SUGGESTION_CANDIDATES = 200
_MAX_NAME_WORDS = 4
_MAX_DOMAINS = 4


def candidates(psa: Adapter, customer: MappableCustomer) -> list[Candidate]:
    """Active companies whose name shares a word with the customer's, or whose web address
    contains one of its domains' stems: one query (N3), capped."""
    words = [w for w in name_key(customer.name).split() if len(w) >= 3][:_MAX_NAME_WORDS]
    stems = sorted({d.split(".")[0] for d in (registrable(x) for x in customer.domains) if d})[
        :_MAX_DOMAINS
    ]
    stems = [s for s in stems if len(s) >= 3]
    if not words and not stems:
        return []
    return [
        Candidate(id=c.id, name=c.name, web_domain=c.detail)
        for c in psa.company_candidates(words, stems, limit=SUGGESTION_CANDIDATES)
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
        psa = await program_psa(session, partner_id, program_id)
    if customer is None:
        return None
    found = await service.live(
        database, config, partner_id, lambda adapter: candidates(adapter, customer), psa
    )
    if isinstance(found, FieldError):
        return found
    return suggest(customer.name, customer.domains, found, limit=limit)
