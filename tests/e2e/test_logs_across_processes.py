"""The logs of the production processes (N4): `prism graph` and `prism worker` write JSON
lines (their stderr is a file here), uvicorn's access line among them, and one request's id
is on the API's access line and on the worker's record of handling the event it caused."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_topology import Topology, topology  # noqa: F401 - the fixture
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The process's log lines; anything else in the file (a crash's traceback) fails."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_one_request_id_from_the_api_s_access_line_to_the_worker(
    topology: Topology,  # noqa: F811
) -> None:
    partner = "admin@contoso-partners.example"
    topology.sign_in(partner)
    request_id = f"req-{uuid.uuid4().hex}"

    response = httpx.post(
        f"{topology.base}/graphql",
        json={
            "query": "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) {"
            " errors { code } } }",
            "variables": {"i": {"name": f"Logged {request_id[-6:]}"}},
        },
        headers={"Authorization": f"Bearer {topology.tokens[partner]}", "X-Request-ID": request_id},
        timeout=30,
    )
    assert response.json()["data"]["createCustomer"]["errors"] == []
    assert response.headers["x-request-id"] == request_id

    def handled() -> list[dict[str, Any]]:
        return [
            line
            for line in json_lines(topology.logs / "worker.log")
            if line.get("request_id") == request_id and line["logger"] == "prism_syncer.inbox"
        ]

    wait_until(lambda: bool(handled()), timeout=30, what="the worker to log customer.created")
    (line,) = handled()
    assert line["event_type"] == "customer.created"
    assert line["message"].endswith("(customer.created) handled")

    access = [
        line
        for line in json_lines(topology.logs / "graph.log")
        if line["logger"] == "uvicorn.access" and line.get("request_id") == request_id
    ]
    assert [(a["method"], a["path"], a["status"]) for a in access] == [("POST", "/graphql", 200)]
    assert {"timestamp", "level", "message"} <= set(access[0])
