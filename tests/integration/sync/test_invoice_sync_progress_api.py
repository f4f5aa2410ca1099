"""Live progress of an invoice sync run (issue 16): the `invoiceSyncRunProgress` subscription
over a real WebSocket (graphql-transport-ws), while the syncer's own code drives the run
against the Autotask simulator. Each step of the run waits for the message that tells of it,
so nothing depends on catching a state in time."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import dramatiq
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from autotask_sim import SimHandle
from prism_domain.access import PrincipalKind, UserRole
from prism_domain.organisations import OrganisationKind
from prism_graph.app import create_app
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.settings import GraphSettings
from prism_platform.db import utcnow
from prism_tables.identity import AccessToken, User, UserStatus
from prism_tables.organisations import Organisation
from prism_tables.sync.invoices import InvoiceSyncRun
from tests.integration.syncer.invoices.support import NOV, Line, World, month_end
from tests.support.graphql import GraphQLClient
from tests.support.identity import _FIXTURE_HASH
from tests.support.psa import add_partner
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

PROTOCOL = "graphql-transport-ws"
PROGRESS = """subscription($id: ID!) { invoiceSyncRunProgress(runId: $id) {
  runId status finished jobsDone jobsTotal customersConsidered customersSynced customersFailed
  adjustmentsApplied message
  run { id status adjustmentsApplied customers { customerName outcome } } } }"""


def staff_token(engine: Engine, org_id: int, role: UserRole = UserRole.ADMIN) -> str:
    """A signed-in user of `org_id`: its bearer token."""
    token = new_token("prism_at")
    with Session(engine) as session, session.begin():
        user = User(
            organisation_id=org_id,
            email=f"{role.value.lower()}-{token[-8:].lower()}@partner.example",
            display_name=role.value.lower(),
            role=role,
            status=UserStatus.ACTIVE,
            password_hash=_FIXTURE_HASH,
        )
        session.add(user)
        session.flush()
        session.add(
            AccessToken(
                token_hash=token_hash(token),
                principal_kind=PrincipalKind.USER,
                user_id=user.id,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    return token


def run_gid(pk: int) -> str:
    return base64.b64encode(f"InvoiceSyncRun:{pk}".encode()).decode()


@pytest.fixture
def http(settings: GraphSettings, broker: dramatiq.Broker) -> Iterator[TestClient]:
    """The API on its own event loop (the test drives the syncer meanwhile), polling often."""
    fast = settings.model_copy(
        update={"progress_poll_interval": 0.02, "subscriptions_per_connection": 2}
    )
    with TestClient(create_app(fast, broker=broker)) as client:
        yield client


@pytest.fixture
def world(sync_engine: Engine, autotask: SimHandle) -> World:
    return World.create(sync_engine, autotask)


class Socket:
    """One graphql-transport-ws connection, as a client library would hold it."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        self.ws.send_json({"type": "connection_init", "payload": payload or {}})
        message: dict[str, Any] = self.ws.receive_json()
        return message

    def subscribe(self, op: str, run_id: str) -> None:
        self.ws.send_json(
            {
                "id": op,
                "type": "subscribe",
                "payload": {"query": PROGRESS, "variables": {"id": run_id}},
            }
        )

    def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = self.ws.receive_json()
        return message

    def progress_until(
        self, op: str, seen: list[dict[str, Any]], done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """Read `op`'s progress messages (kept in `seen`) until one satisfies `done`."""
        while not (seen and done(seen[-1])):
            message = self.receive()
            assert message["type"] == "next" and message["id"] == op, message
            assert "errors" not in message["payload"], message
            seen.append(message["payload"]["data"]["invoiceSyncRunProgress"])
        return seen[-1]


@pytest.fixture
def socket(http: TestClient) -> Iterator[Socket]:
    with http.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        yield Socket(ws)


def test_a_partner_admin_follows_a_run_from_pending_to_success(
    socket: Socket, world: World, sync_engine: Engine, http: TestClient
) -> None:
    customers = [world.customer(), world.customer()]
    invoice = world.invoice(NOV, [Line(c, "M365-E3", 5, NOV, month_end(NOV)) for c in customers])
    run_id = world.start(invoice)
    token = staff_token(sync_engine, world.partner)

    assert socket.init({"authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    socket.subscribe("1", run_gid(run_id))
    seen: list[dict[str, Any]] = []
    first = socket.progress_until("1", seen, lambda _: True)
    assert (first["status"], first["jobsDone"], first["jobsTotal"]) == ("PENDING", 0, 0)
    assert first["runId"] == first["run"]["id"] == run_gid(run_id)
    assert first["finished"] is False

    def on_progress(done: int, total: int) -> None:
        # The syncer waits here until the subscriber has heard of each job it has finished.
        socket.progress_until(
            "1",
            seen,
            lambda p: (p["status"], p["jobsDone"], p["jobsTotal"]) == ("RUNNING", done, total),
        )

    assert world.syncer().drive(run_id, on_progress=on_progress) == "SUCCESS"
    last = socket.progress_until("1", seen, lambda p: p["finished"])
    assert socket.receive() == {"id": "1", "type": "complete"}

    statuses = [p["status"] for p in seen]
    assert statuses[0] == "PENDING" and statuses[-1] == "SUCCESS"
    assert set(statuses[1:-1]) == {"RUNNING"}
    jobs_done = [p["jobsDone"] for p in seen]
    assert jobs_done == sorted(jobs_done)
    assert {0, 1, 2} <= set(jobs_done)  # each of the two contract services, one after the other
    assert (last["jobsDone"], last["jobsTotal"]) == (2, 2)
    assert (last["customersConsidered"], last["customersSynced"], last["customersFailed"]) == (
        2,
        2,
        0,
    )
    assert last["adjustmentsApplied"] == last["run"]["adjustmentsApplied"] == 2
    assert last["run"]["status"] == "SUCCESS" and last["message"] is None
    # The record read afresh for the last message, not what the first one read.
    assert [c["outcome"] for c in last["run"]["customers"]] == ["SUCCESS", "SUCCESS"]
    assert first["run"]["customers"] == []
    hub = http.app.state.progress  # type: ignore[attr-defined]
    wait_until(lambda: hub.watchers == 0, what="the finished subscriber to leave the poller")


def test_a_finished_run_answers_once_and_completes(
    socket: Socket, world: World, sync_engine: Engine
) -> None:
    customer = world.customer()
    run = world.sync(world.invoice(NOV, [Line(customer, "M365-E3", 3, NOV, month_end(NOV))]))
    socket.init({"Authorization": f"Bearer {staff_token(sync_engine, world.partner)}"})
    socket.subscribe("a", run_gid(run.id))
    message = socket.receive()
    assert message["payload"]["data"]["invoiceSyncRunProgress"]["status"] == "SUCCESS"
    assert message["payload"]["data"]["invoiceSyncRunProgress"]["finished"] is True
    assert socket.receive() == {"id": "a", "type": "complete"}


def test_another_partners_run_is_not_found_like_a_missing_one(
    socket: Socket, world: World, sync_engine: Engine
) -> None:
    run_id = world.start(world.invoice(NOV, [Line(world.customer(), "M365-E3", 1, NOV, NOV)]))
    other = staff_token(sync_engine, add_partner(sync_engine, "Other partner"))
    socket.init({"authorization": f"Bearer {other}"})
    answers = []
    for op, run in (("theirs", run_gid(run_id)), ("missing", run_gid(run_id + 1000))):
        socket.subscribe(op, run)
        message = socket.receive()
        assert message["type"] == "error" and message["id"] == op, message
        answers.append([(e["message"], e["extensions"]["code"]) for e in message["payload"]])
    assert answers[0] == answers[1] == [("No such invoice sync run.", "NOT_FOUND")]


def test_a_connection_without_a_valid_token_is_refused(
    http: TestClient, world: World, sync_engine: Engine
) -> None:
    run_id = world.start(world.invoice(NOV, [Line(world.customer(), "M365-E3", 1, NOV, NOV)]))
    for payload in ({}, {"authorization": "Bearer prism_at_not-a-token"}):
        with http.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
            ws.send_json({"type": "connection_init", "payload": payload})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4403
    with http.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        Socket(ws).subscribe("early", run_gid(run_id))  # before any connection_init
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_the_token_of_the_upgrade_request_authenticates_too(
    http: TestClient, world: World, sync_engine: Engine
) -> None:
    run = world.sync(world.invoice(NOV, [Line(world.customer(), "M365-E3", 2, NOV, NOV)]))
    headers = {"Authorization": f"Bearer {staff_token(sync_engine, world.partner)}"}
    with http.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers=headers) as ws:
        socket = Socket(ws)
        assert socket.init() == {"type": "connection_ack"}
        socket.subscribe("h", run_gid(run.id))
        assert socket.receive()["payload"]["data"]["invoiceSyncRunProgress"]["finished"]


def test_subscriptions_per_connection_are_capped_and_a_leaver_is_forgotten(
    http: TestClient, world: World, sync_engine: Engine
) -> None:
    run_id = world.start(world.invoice(NOV, [Line(world.customer(), "M365-E3", 1, NOV, NOV)]))
    hub = http.app.state.progress  # type: ignore[attr-defined]
    with http.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        socket = Socket(ws)
        socket.init({"authorization": f"Bearer {staff_token(sync_engine, world.partner)}"})
        for op in ("1", "2"):  # the test app allows two at once
            socket.subscribe(op, run_gid(run_id))
            assert socket.receive()["payload"]["data"]["invoiceSyncRunProgress"]["status"] == (
                "PENDING"
            )
        socket.subscribe("3", run_gid(run_id))
        refused = socket.receive()
        assert refused["type"] == "error" and refused["id"] == "3"
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        assert (hub.watched_runs, hub.watchers) == (1, 2)  # one poll serves both
    wait_until(lambda: hub.watchers == 0, what="the closed connection's subscribers to leave")


def test_a_status_this_api_does_not_know_streams_on_until_a_final_one(
    socket: Socket, world: World, sync_engine: Engine
) -> None:
    """A run waiting for approval streams on (it is not finished); a newer worker's status
    this API does not know is shown as under way; the stream ends with a finished status."""
    run_id = world.start(world.invoice(NOV, [Line(world.customer(), "M365-E3", 1, NOV, NOV)]))
    socket.init({"authorization": f"Bearer {staff_token(sync_engine, world.partner)}"})
    socket.subscribe("u", run_gid(run_id))
    seen: list[dict[str, Any]] = []
    socket.progress_until("u", seen, lambda p: p["status"] == "PENDING")

    def set_run(**values: Any) -> None:
        with Session(sync_engine) as session, session.begin():
            run = session.get(InvoiceSyncRun, run_id)
            assert run is not None
            for key, value in values.items():
                setattr(run, key, value)

    set_run(status="AWAITING_APPROVAL", customers_considered=1)
    waiting = socket.progress_until("u", seen, lambda p: p["customersConsidered"] == 1)
    assert (waiting["status"], waiting["finished"]) == ("AWAITING_APPROVAL", False)
    set_run(status="SOME_NEWER_STATUS", customers_considered=2)
    newer = socket.progress_until("u", seen, lambda p: p["customersConsidered"] == 2)
    assert (newer["status"], newer["finished"]) == ("RUNNING", False)
    set_run(status="NO_CHANGE", finished_at=utcnow())
    last = socket.progress_until("u", seen, lambda p: p["finished"])
    assert last["status"] == "NO_CHANGE"
    assert socket.receive() == {"id": "u", "type": "complete"}


async def test_a_subscription_over_http_is_refused_in_the_apis_error_format(
    client: GraphQLClient,
) -> None:
    response = await client.raw(PROGRESS, {"id": run_gid(1)})
    assert response.status_code == 400
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Subscriptions are served over a WebSocket at /graphql "
                "(graphql-transport-ws), not over HTTP.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ],
    }


def test_distributor_staff_follow_a_partners_run_acting_for_it(
    http: TestClient, world: World, sync_engine: Engine
) -> None:
    run = world.sync(world.invoice(NOV, [Line(world.customer(), "M365-E3", 2, NOV, NOV)]))
    with Session(sync_engine) as session, session.begin():
        distributor = Organisation(
            kind=OrganisationKind.DISTRIBUTOR, name="Distributor", domain="dist.example"
        )
        session.add(distributor)
        session.flush()
        distributor_id = distributor.id
    token = staff_token(sync_engine, distributor_id)
    partner = base64.b64encode(f"Organisation:{world.partner}".encode()).decode()
    answers = []
    for acting_for in (None, partner):
        with http.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
            socket = Socket(ws)
            payload = {"authorization": f"Bearer {token}"}
            if acting_for is not None:
                payload["prism-acting-for"] = acting_for
            assert socket.init(payload) == {"type": "connection_ack"}
            socket.subscribe("d", run_gid(run.id))
            message = socket.receive()
            answers.append(
                message["payload"][0]["extensions"]["code"]
                if message["type"] == "error"
                else message["payload"]["data"]["invoiceSyncRunProgress"]["status"]
            )
    # Acting for nobody, the distributor has no PSA of its own: the run is not found.
    assert answers == ["NOT_FOUND", "SUCCESS"]
