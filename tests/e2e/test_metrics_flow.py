"""GET /metrics after a product sync on the Autotask simulator: the run is counted by its
status, the worker's messages by Dramatiq's own middleware, the Autotask requests by endpoint
and status, and the request budget left of the partner's Autotask database."""

from __future__ import annotations

from collections import Counter

import dramatiq
import pytest

from autotask_sim import SimHandle
from prism_graph.outbox.relay import Relay
from prism_platform.metrics import dramatiq_metrics
from prism_psa.limits import HOURLY_BUDGET
from tests.conftest import drain
from tests.integration.orders.support import make_catalogue, program_of
from tests.integration.sync.mapping_support import connect, program_sync
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.metrics import label_values, sample, value

pytestmark = pytest.mark.e2e


async def product_runs(api: GraphQLClient, token: str, program: str) -> list[str]:
    """The statuses of the program's product sync runs."""
    data = await api.as_(token).data(
        "query($p: ID!) { productSyncRuns(programId: $p, first: 50) { edges { node { status } } } }",
        {"p": program},
    )
    return [e["node"]["status"] for e in data["productSyncRuns"]["edges"]]


async def test_a_product_sync_shows_in_the_run_worker_and_autotask_metrics(
    api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    autotask: SimHandle,
    relay: Relay,
    broker: dramatiq.Broker,
    psa_worker: dramatiq.Worker,
) -> None:
    # As `prism dev` does: the worker's Dramatiq metrics on the API's page.
    dramatiq_metrics(broker, boot_now=True)
    catalogue = await make_catalogue(client)
    program = await program_of(client, catalogue.monthly)
    await connect(api, tenants.a.admin)
    await program_sync(api, tenants.a.admin, program, enabled=True)
    before = (await api.http.get("/metrics")).text
    runs_before = Counter(await product_runs(api, tenants.a.admin, program))

    requested = await api.as_(tenants.a.admin).data(
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested errors { code } } }",
        {"p": program},
    )
    assert requested["syncProducts"] == {"requested": True, "errors": []}
    while relay.publish_pending():
        pass
    drain(broker, psa_worker)

    after = (await api.http.get("/metrics")).text
    new_runs = Counter(await product_runs(api, tenants.a.admin, program)) - runs_before
    assert new_runs["SUCCESS"] >= 1, new_runs
    for status, count in new_runs.items():
        run = {"kind": "product", "status": status}
        moved = value(after, "prism_sync_runs_total", **run) - value(
            before, "prism_sync_runs_total", **run
        )
        assert moved == count, (status, new_runs)
    handled = {"actor_name": "product_sync.requested"}
    assert value(after, "dramatiq_messages_total", **handled) == 1
    assert value(after, "dramatiq_message_errors_total", **handled) == 0
    # Creating the catalogue's services in Autotask: POSTs answered 200, each counted.
    ok = "prism_autotask_requests_total"
    assert value(after, ok, endpoint="Services", status="200") > value(
        before, ok, endpoint="Services", status="200"
    )
    databases = label_values(after, "prism_autotask_budget_remaining", "database")
    assert databases
    for database in databases:
        left = sample(after, "prism_autotask_budget_remaining", database=database)
        assert left is not None and 0 < left < HOURLY_BUDGET
