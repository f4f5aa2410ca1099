"""Suggested customer mappings (SPEC S4): which PSA company is most likely the customer.

A suggestion is only ever a ranking shown to a person; nothing is mapped without their choice.
The score (0 to 100) weighs the company's web domain against the customer's and its tenants'
domains (a match is strong evidence), then the similarity of the names once legal suffixes
and punctuation are set aside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

# Words that say what kind of company it is, not which one.
_LEGAL_WORDS = {
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "pty",
    "gmbh",
    "ag",
    "bv",
    "nv",
    "sa",
    "sas",
    "srl",
    "spa",
    "ab",
    "as",
    "oy",
    "co",
    "corp",
    "corporation",
    "company",
    "group",
    "holdings",
    "the",
}
_NON_WORD = re.compile(r"[^a-z0-9]+")
DOMAIN_MATCH_SCORE = 60
NAME_WEIGHT = 40
MIN_SCORE = 35


def name_key(name: str) -> str:
    words = [w for w in _NON_WORD.split(name.casefold()) if w and w not in _LEGAL_WORDS]
    return " ".join(words)


def registrable(domain: str | None) -> str | None:
    """`www.Contoso.com/` and `https://contoso.com` are the same company domain."""
    if not domain:
        return None
    text = domain.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0].split(":")[0]
    text = text.removeprefix("www.").rstrip(".")
    # A Microsoft tenant's initial domain says who the tenant is: contoso.onmicrosoft.com.
    return text.removesuffix(".onmicrosoft.com") if text.endswith(".onmicrosoft.com") else text


def _domain_stem(domain: str) -> str:
    return domain.split(".")[0]


@dataclass(frozen=True)
class Candidate:
    """A PSA company, as the picker lists it."""

    id: int
    name: str
    web_domain: str | None = None


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    score: int
    reasons: tuple[str, ...]


def score(
    customer_name: str, customer_domains: Iterable[str | None], candidate: Candidate
) -> Suggestion:
    reasons: list[str] = []
    total = 0.0
    domains = {d for d in (registrable(x) for x in customer_domains) if d}
    company_domain = registrable(candidate.web_domain)
    if company_domain and company_domain in domains:
        total += DOMAIN_MATCH_SCORE
        reasons.append(f"web domain {company_domain} matches")
    elif company_domain and _domain_stem(company_domain) in {_domain_stem(d) for d in domains}:
        total += DOMAIN_MATCH_SCORE / 2
        reasons.append(f"web domain {company_domain} resembles the customer's")
    a, b = name_key(customer_name), name_key(candidate.name)
    if a and b:
        similarity = 1.0 if a == b else SequenceMatcher(None, a, b).ratio()
        total += NAME_WEIGHT * similarity
        if similarity >= 0.8:
            reasons.append("same name" if a == b else "similar name")
    return Suggestion(candidate, round(total), tuple(reasons))


def suggest(
    customer_name: str,
    customer_domains: Iterable[str | None],
    candidates: Sequence[Candidate],
    *,
    limit: int = 5,
) -> list[Suggestion]:
    """The likeliest companies first (ties: by name), those below MIN_SCORE left out."""
    domains = list(customer_domains)
    ranked = [score(customer_name, domains, c) for c in candidates]
    ranked = [s for s in ranked if s.score >= MIN_SCORE]
    ranked.sort(key=lambda s: (-s.score, s.candidate.name.casefold(), s.candidate.id))
    return ranked[:limit]
