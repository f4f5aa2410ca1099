"""S4: suggested customer mappings, ranked, never applied by themselves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prism_domain.mapping import Candidate, name_key, registrable, score, suggest

pytestmark = pytest.mark.unit

COMPANIES = [
    Candidate(1, "Fabrikam Incorporated", "https://www.fabrikam.com/"),
    Candidate(2, "Fabrikam Residences", None),
    Candidate(3, "Contoso Ltd", "contoso.com"),
    Candidate(4, "Northwind Traders", "northwindtraders.com"),
]


def test_a_matching_web_domain_ranks_first() -> None:
    ranked = suggest("Fabrikam, Inc.", ["fabrikam.com"], COMPANIES)
    assert [s.candidate.id for s in ranked] == [1]  # "Fabrikam Residences" is too far
    assert ranked[0].score == 100
    assert "web domain fabrikam.com matches" in ranked[0].reasons


def test_a_tenants_initial_domain_names_the_company() -> None:
    ranked = suggest("Contoso", [None, "contoso.onmicrosoft.com"], COMPANIES)
    assert [(s.candidate.id, s.score) for s in ranked] == [(3, 70)]
    assert "web domain contoso.com resembles the customer's" in ranked[0].reasons


def test_unrelated_companies_are_not_suggested() -> None:
    assert suggest("Tailspin Toys", ["tailspintoys.com"], COMPANIES) == []


def test_names_are_compared_without_legal_words_and_punctuation() -> None:
    assert name_key("The Fabrikam, Inc.") == name_key("FABRIKAM LLC") == "fabrikam"
    assert registrable("HTTPS://WWW.Fabrikam.com:443/about") == "fabrikam.com"


@settings(max_examples=200, derandomize=True)
@given(
    name=st.text(max_size=40),
    other=st.text(max_size=40),
    domain=st.one_of(st.none(), st.text(max_size=30)),
)
def test_scores_stay_between_0_and_100(name: str, other: str, domain: str | None) -> None:
    result = score(name, [domain], Candidate(9, other, domain))
    assert 0 <= result.score <= 100
