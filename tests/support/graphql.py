"""A GraphQL client for tests: real HTTP requests through the ASGI app, in process."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.http = http
        self.token = token
        self.headers = dict(headers or {})

    def as_(self, token: str | None, **headers: str) -> GraphQLClient:
        """The same client, calling with `token` (None: anonymous) and extra headers."""
        return GraphQLClient(self.http, token, {k.replace("_", "-"): v for k, v in headers.items()})

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.raw(query, variables)
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a query that must succeed without errors."""
        body = await self.post(query, variables)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data
