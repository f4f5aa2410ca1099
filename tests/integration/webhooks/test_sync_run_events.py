"""An invoice sync run's outcome is an event (S7, N5): `invoice_sync.run_finished` or
`invoice_sync.run_failed`, staged in the outbox by the transaction that records the final
status, and from there delivered to the partner's webhooks like any other event."""

from __future__ import annotations

import json

import dramatiq
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.webhooks import new_secret
from prism_graph.outbox.relay import Relay
from prism_platform.settings import DEV_SECRET_KEY
from prism_psa.secrets import WEBHOOK_SECRETS, CredentialCipher
from prism_syncer.invoices.sync import InvoiceSync, SyncRefused, start_run
from prism_tables.outbox import OutboxEvent
from prism_tables.webhooks import WebhookDelivery, WebhookEndpoint
from tests.conftest import drain
from tests.integration.syncer.invoices import test_apply_fake_port as fake
from tests.integration.webhooks.conftest import Receiver

pytestmark = pytest.mark.integration

setup = fake.setup  # partner, program and products linked to PSA services


def outbox_of(engine: Engine, event_type: str) -> list[OutboxEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type)))


def test_a_finished_run_raises_run_finished_with_its_counts(
    sync_engine: Engine, setup: tuple[int, int, dict[str, int]]
) -> None:
    partner, program, services = setup
    mapping = fake.customers(sync_engine, partner, program, 2)
    lines = [(c, sku, 2, fake.NOV, fake.NOV_30) for c in mapping for sku in services]
    invoice = fake.issue(sync_engine, partner, program, lines)

    finished = fake.run(sync_engine, fake.FakePsa(mapping.values()), partner, program, invoice)

    assert finished.status == "SUCCESS"
    (row,) = outbox_of(sync_engine, "invoice_sync.run_finished")
    assert row.aggregate_id == str(finished.id)
    assert row.payload == {
        "partner_id": partner,
        "program_id": program,
        "run_id": finished.id,
        "invoice_id": invoice,
        "status": "SUCCESS",
        "counts": {
            "customers_considered": 2,
            "customers_synced": 2,
            "customers_failed": 0,
            "subscriptions_synced": 0,
            "adjustments_applied": 6,
            "warnings": 0,
        },
    }
    assert outbox_of(sync_engine, "invoice_sync.run_failed") == []

    # Driving the finished run again changes nothing and raises nothing more.
    InvoiceSync(sync_engine, open_psa=lambda *_: fake.FakePsa(mapping.values())).drive(finished.id)
    assert len(outbox_of(sync_engine, "invoice_sync.run_finished")) == 1


def test_a_failed_run_reaches_the_partners_webhook(
    sync_engine: Engine,
    setup: tuple[int, int, dict[str, int]],
    receiver: Receiver,
    relay: Relay,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
) -> None:
    partner, program, _ = setup
    secret = new_secret()
    invoice = fake.issue(sync_engine, partner, program, [])
    with Session(sync_engine) as session, session.begin():
        session.add(
            WebhookEndpoint(
                partner_id=partner,
                url=receiver.url,
                event_types=["invoice_sync.run_failed"],
                secret_encrypted=CredentialCipher(DEV_SECRET_KEY, WEBHOOK_SECRETS).encrypt(secret),
            )
        )
        run_id = start_run(
            session, partner_id=partner, program_id=program, trigger="MANUAL", invoice_id=invoice
        ).id

    def refuse(*_: int) -> fake.FakePsa:
        raise SyncRefused("No Autotask connection: connect to Autotask on the Connections screen.")

    status = InvoiceSync(sync_engine, open_psa=refuse).drive(run_id)  # type: ignore[arg-type]
    relay.publish_pending()
    drain(broker, worker)

    assert status == "FAILURE"
    (request,) = receiver.requests
    assert request.headers["Prism-Event"] == "invoice_sync.run_failed"
    data = json.loads(request.body)["data"]
    assert (data["partner_id"], data["run_id"], data["status"]) == (partner, run_id, "FAILURE")
    assert data["message"].startswith("No Autotask connection")
    with Session(sync_engine) as session:
        (delivery,) = session.scalars(select(WebhookDelivery)).all()
    assert delivery.status == "SUCCEEDED"


def test_a_run_waiting_for_approval_reaches_the_partners_webhook(
    sync_engine: Engine,
    setup: tuple[int, int, dict[str, int]],
    receiver: Receiver,
    relay: Relay,
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
) -> None:
    partner, program, services = setup
    mapping = fake.customers(sync_engine, partner, program, 2)
    lines = [(c, sku, 3, fake.NOV, fake.NOV_30) for c in mapping for sku in services]
    invoice = fake.issue(sync_engine, partner, program, lines)
    with Session(sync_engine) as session, session.begin():
        session.add(
            WebhookEndpoint(
                partner_id=partner,
                url=receiver.url,
                event_types=["invoice_sync.awaiting_approval"],
                secret_encrypted=CredentialCipher(DEV_SECRET_KEY, WEBHOOK_SECRETS).encrypt(
                    new_secret()
                ),
            )
        )
        run_id = start_run(
            session,
            partner_id=partner,
            program_id=program,
            trigger="INVOICE_ISSUED",
            invoice_id=invoice,
            approval=True,
        ).id
    psa = fake.FakePsa(mapping.values())

    status = InvoiceSync(sync_engine, open_psa=lambda *_: psa).drive(run_id)
    relay.publish_pending()
    drain(broker, worker)

    assert status == "AWAITING_APPROVAL"
    (request,) = receiver.requests
    assert request.headers["Prism-Event"] == "invoice_sync.awaiting_approval"
    data = json.loads(request.body)["data"]
    assert (data["partner_id"], data["run_id"], data["invoice_id"]) == (partner, run_id, invoice)
    assert data["customers"] == 2
    assert outbox_of(sync_engine, "invoice_sync.run_finished") == []  # it has not finished
