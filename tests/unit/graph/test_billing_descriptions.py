"""Every type, field, argument, input field and enum value the billing and subscriptions
rooms define, with their root queries and mutations and the domain enum they expose
(`InvoiceLineKind`), has a description for front-end developers, in words: no internal rule
id (P3, C5, ...). Checked with the accounts rooms' walk (`test_account_descriptions`) on the
SDL as graphql-core builds it, the way a tool reading `schema.graphql` sees it."""

from __future__ import annotations

import graphql
import pytest
from graphql import GraphQLObjectType

from prism_graph.schema import sdl
from tests.unit.graph import test_account_descriptions as walk

pytestmark = pytest.mark.unit

ROOMS = ("prism_graph.billing", "prism_graph.subscriptions")
# Enums wrap the domain's own (their Python class lives in prism_domain).
ENUMS = {"InvoiceLineKind"}


@pytest.fixture
def billing_rooms(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk, pointed at the billing and subscriptions rooms."""
    monkeypatch.setattr(walk, "ROOMS", ROOMS)
    monkeypatch.setattr(walk, "ENUMS", ENUMS)


@pytest.mark.usefixtures("billing_rooms")
def test_everything_the_billing_and_subscriptions_rooms_define_is_described_in_words() -> None:
    schema = graphql.build_schema(sdl())
    names, roots = walk._own_type_names(), walk._own_root_fields()
    assert {"Invoice", "InvoiceFile", "CustomerSubscription", "RunBillingInput"} <= names
    assert {("Query", "invoices"), ("Mutation", "run_billing")} <= roots
    assert {("Query", "subscription"), ("Mutation", "cancel_subscription")} <= roots

    missing, rule_ids = walk._problems(schema)

    assert missing == [], "describe, for a front-end developer: " + ", ".join(missing)
    assert rule_ids == [], "say the rule in words instead of its id: " + "; ".join(rule_ids)


@pytest.mark.usefixtures("billing_rooms")
def test_every_mutation_of_these_rooms_takes_one_input_argument() -> None:
    schema = graphql.build_schema(sdl())
    mutation = schema.type_map["Mutation"]
    assert isinstance(mutation, GraphQLObjectType)
    own = [walk._camel(name) for root, name in walk._own_root_fields() if root == "Mutation"]

    arguments = {name: sorted(mutation.fields[name].args) for name in own}

    assert len(own) == 8  # five of billing, three of subscriptions
    assert {name: args for name, args in arguments.items() if args != ["input"]} == {}
