"""Abuse resistance (SPEC N2): oversized, deep, aliased, cyclic and batched requests are refused
before any resolver runs; introspection is off in production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.settings import GraphSettings
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration


@pytest.fixture
def resolver_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every call of the customer resolvers, to prove refusals come first."""
    from prism_graph.customers import schema as customers_schema

    calls: list[str] = []
    original = customers_schema.paginate

    async def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("customers")
        return await original(*args, **kwargs)

    monkeypatch.setattr(customers_schema, "paginate", spy)
    return calls


def codes(body: dict[str, Any]) -> list[str]:
    return [str(e.get("message")) for e in body.get("errors") or []]


async def test_too_deep_queries_are_refused(
    settings: GraphSettings, database: Database, tenants: Tenants, resolver_calls: list[str]
) -> None:
    # Today's schema nests no deeper than the default limit (10), so show the rule at 3.
    app = create_app(settings.model_copy(update={"max_query_depth": 3}), database=database)
    headers = {"Authorization": f"Bearer {tenants.a.admin}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://prism.test", headers=headers
    ) as http:
        ok = await http.post(
            "/graphql", json={"query": "{ customers { edges { node { name } } } }"}
        )
        deep = await http.post(
            "/graphql",
            json={"query": "{ customers { edges { node { owner { name } } } } }"},
        )
        via_fragment = await http.post(
            "/graphql",
            json={
                "query": "{ customers { ...E } } "
                "fragment E on CustomerConnection { edges { node { owner { name } } } }"
            },
        )
    assert not ok.json().get("errors")
    resolver_calls.clear()
    for body in (deep.json(), via_fragment.json()):
        assert any("exceeds maximum operation depth" in m for m in codes(body)), body
    assert resolver_calls == []


async def test_too_many_aliases_are_refused_also_through_fragments(
    client: GraphQLClient, resolver_calls: list[str]
) -> None:
    aliases = " ".join(f"a{i}: customers {{ totalCount }}" for i in range(16))
    direct = await client.post("{ " + aliases + " }")
    fragment = await client.post("query { ...F } fragment F on Query { " + aliases + " }")
    for body in (direct, fragment):
        assert any("aliases found" in m.lower() for m in codes(body)), body
    assert resolver_calls == []


async def test_too_many_tokens_are_refused(
    client: GraphQLClient, resolver_calls: list[str]
) -> None:
    body = await client.post("{ " + "__typename " * 2500 + "}")
    assert any("token" in m.lower() for m in codes(body)), body
    assert resolver_calls == []


async def test_circular_fragments_are_refused(
    client: GraphQLClient, resolver_calls: list[str]
) -> None:
    body = await client.post(
        "query { customers { ...A } } "
        "fragment A on CustomerConnection { totalCount ...B } "
        "fragment B on CustomerConnection { totalCount ...A }"
    )
    assert any("cannot spread fragment" in m.lower() for m in codes(body)), body
    assert resolver_calls == []


async def test_oversized_pages_are_refused(
    client: GraphQLClient, resolver_calls: list[str]
) -> None:
    body = await client.post("{ customers(first: 1000) { totalCount } }")
    assert "`first` must be between 0 and 100" in codes(body)[0]


async def test_batched_requests_are_refused(
    client: GraphQLClient, resolver_calls: list[str]
) -> None:
    response = await client.http.post(
        "/graphql",
        json=[{"query": "{ customers { totalCount } }"}, {"query": "{ __typename }"}],
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 400
    assert resolver_calls == []


async def test_oversized_bodies_are_refused(
    client: GraphQLClient, resolver_calls: list[str]
) -> None:
    huge = "{ __typename }" + " " * 1_100_000
    response = await client.raw(huge)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_queries_over_get_are_refused(client: GraphQLClient) -> None:
    response = await client.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": "application/json"}
    )
    assert response.status_code in (400, 405)


async def test_introspection_is_off_in_production(database: Database, tenants: Tenants) -> None:
    settings = GraphSettings(
        database_url="sqlite://",
        prism_env="production",
        secret_key="s" * 40,
        password_hash_time_cost=1,
        password_hash_memory_kib=8,
        password_hash_parallelism=1,
    )
    app = create_app(settings, database=database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://prism.test"
    ) as http:
        body = (
            await http.post(
                "/graphql",
                json={"query": "{ __schema { types { name } } }"},
                headers={"Authorization": f"Bearer {tenants.a.admin}"},
            )
        ).json()
        ide = await http.get("/graphql", headers={"accept": "text/html"})
    assert "introspection" in codes(body)[0].lower()
    assert ide.status_code != 200 or "graphiql" not in ide.text.lower()


async def test_errors_never_carry_stack_traces(client: GraphQLClient) -> None:
    body = await client.post('{ customers(after: "!!") { totalCount } }')
    assert "Traceback" not in str(body)
    assert "stacktrace" not in str(body).lower()


async def test_a_bad_enum_in_variables_is_explained_not_masked(client: GraphQLClient) -> None:
    body = await client.post(
        "query($o: CustomerOrder) { customers(orderBy: $o) { totalCount } }",
        {"o": {"field": "SHOE_SIZE"}},
    )
    (error,) = body["errors"]
    assert error["message"] != "Unexpected error."
    assert "SHOE_SIZE" in error["message"]
