"""GraphiQL works without internet: the page loads every asset from Prism itself (a vendored
copy), opens on a Prism example, and shows where the bearer token goes."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import parse, validate
from pydantic import SecretStr

from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.demo import DEMO_PASSWORD
from prism_graph.schema import build_schema
from prism_graph.settings import GraphSettings

pytestmark = pytest.mark.integration

HTML = {"accept": "text/html"}


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as client:
        yield client


def config_of(page: str) -> dict[str, str]:
    block = re.search(
        r'<script type="application/json" id="prism-graphiql-config">(.*?)</script>', page, re.S
    )
    assert block is not None
    return dict(json.loads(block.group(1)))


async def test_the_page_and_its_assets_come_from_prism_alone(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "://" not in page.text  # no host at all: nothing from unpkg or any CDN
    assert "connect-src 'self'" in page.headers["content-security-policy"]

    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 5 and all(a.startswith("/graphiql/assets/") for a in assets), assets
    for asset in assets:
        answer = await http.get(asset)
        assert answer.status_code == 200, asset
        kind = "text/css" if asset.endswith(".css") else "javascript"
        assert kind in answer.headers["content-type"], (asset, answer.headers["content-type"])
        # What the assets load in turn is embedded (fonts as data:) or on Prism too.
        assert not re.search(r"url\((?!data:)", answer.text) or not asset.endswith(".css")
        assert "sourceMappingURL" not in answer.text
    css = (await http.get("/graphiql/assets/graphiql.min.css")).text
    assert "graphiql-container" in css
    script = (await http.get("/graphiql/assets/graphiql.min.js")).text
    assert "window.GraphiQL" in script and "unpkg.com" not in script


async def test_the_page_opens_on_a_prism_example_with_the_bearer_header(
    http: httpx.AsyncClient, anonymous: Any
) -> None:
    config = config_of((await http.get("/graphql", headers=HTML)).text)
    query = config["query"]
    assert "Authorization" in config["headers"] and json.loads(config["headers"]) == {
        "Authorization": ""
    }
    assert '"Authorization": "Bearer <accessToken>"' in query
    assert "mutation SignIn" in query and "query Customers" in query
    assert validate(build_schema()._schema, parse(query)) == []
    # The example's sign-in works on the demo data (development shows the demo login).
    assert f'password: "{DEMO_PASSWORD}"' in query
    # An empty Authorization header is no header: signing in is not refused for it.
    answer = await http.post(
        "/graphql",
        json={"query": query, "operationName": "SignIn"},
        headers={"Authorization": ""},
    )
    assert answer.status_code == 200
    assert answer.json()["data"]["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_production_shows_no_demo_password(
    settings: GraphSettings, database: Database
) -> None:
    production = settings.model_copy(
        update={"prism_env": "production", "secret_key": SecretStr("x" * 40), "graphiql": True}
    )
    app = create_app(production, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert DEMO_PASSWORD not in page.text and "you@example.com" in page.text


async def test_without_graphiql_neither_the_page_nor_its_assets(
    settings: GraphSettings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"graphiql": False}), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        page = await http.get("/graphql", headers=HTML)
        asset = await http.get("/graphiql/assets/graphiql.min.js")
    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404
