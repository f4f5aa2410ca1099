"""Issue 6 end to end: a subscription changed mid-month, a billing run whose invoice lines
show the prorated amounts, `invoice.issued` through the outbox and broker to the syncer, and
the BILLING contact's mail with the invoice attached."""

from __future__ import annotations

import threading

import dramatiq
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_graph.database import Database
from prism_graph.outbox.relay import Relay
from prism_platform.mail import MailAttachment, MailMessage
from prism_syncer.worker import SyncerApp
from prism_tables.outbox import OutboxEvent
from prism_tables.sync import ProcessedEvent
from tests.conftest import drain
from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


async def test_a_mid_month_change_is_invoiced_prorated_and_reaches_syncer_and_mail(
    client: GraphQLClient,
    tenants: Tenants,
    database: Database,
    relay: Relay,
    syncer: SyncerApp,
    worker: dramatiq.Worker,
    broker: dramatiq.Broker,
    sync_engine: Engine,
) -> None:
    # Given a licence at 20.00 a month, held by partner A's customer from 1 September,
    # raised from 4 to 6 seats on 11 September, and a BILLING contact for partner A
    program = await create_program(client, "Microsoft CSP", "AUD")
    product = await create_product(
        client, program, sku="M365-E3", name="Microsoft 365 E3", buy_price="20.00", rrp="25.00"
    )
    customer = await create_customer(client, tenants.a.gid, "Contoso Pharmaceuticals")
    created = await client.data(
        "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) {"
        " subscription { id } errors { code } } }",
        {
            "input": {
                "customerId": customer,
                "productId": product,
                "quantity": 4,
                "startDate": "2026-09-01",
            }
        },
    )
    subscription = created["createSubscription"]["subscription"]["id"]
    partner = client.as_(tenants.a.admin)
    changed = await partner.data(
        "mutation($input: ChangeSubscriptionQuantityInput!) { changeSubscriptionQuantity("
        "input: $input) { errors { code } } }",
        {"input": {"id": subscription, "quantity": 6, "effectiveFrom": "2026-09-11"}},
    )
    assert changed["changeSubscriptionQuantity"]["errors"] == []
    contact = await partner.data(
        "mutation($input: AddAccountContactInput!) { addAccountContact(input: $input) {"
        " errors { code } } }",
        {
            "input": {
                "accountId": tenants.a.gid,
                "firstName": "Ada",
                "lastName": "Ledger",
                "email": f"accounts@{tenants.a.domain}",
                "type": "BILLING",
            }
        },
    )
    assert contact["addAccountContact"]["errors"] == []

    # When the distributor runs September's billing, with the relay and the syncer running
    stop = threading.Event()
    relay_thread = threading.Thread(target=relay.run, args=(stop,))
    relay_thread.start()
    try:
        run = await client.data(
            'mutation { runBilling(input: { month: "2026-09" }) { issued { id } errors { code } } }'
        )
        assert run["runBilling"]["errors"] == []

        def published() -> bool:
            with Session(sync_engine) as session:
                rows = session.scalars(
                    select(OutboxEvent.published_at).where(OutboxEvent.type == "invoice.issued")
                ).all()
                return bool(rows) and all(r is not None for r in rows)

        wait_until(published, what="the relay to publish invoice.issued")
    finally:
        stop.set()
        database.signal.notify()  # type: ignore[union-attr]
        relay_thread.join(timeout=10)
    drain(broker, worker)

    # Then partner A reads an invoice whose lines are prorated by days
    invoice_id = run["runBilling"]["issued"][0]["id"]
    invoice = await partner.data(
        "query($id: ID!) { invoice(id: $id) { total lines { periodStart periodEnd quantity"
        " amount } } }",
        {"id": invoice_id},
    )
    assert invoice["invoice"]["lines"] == [
        # 4 x 20.00 x 10/30 and 6 x 20.00 x 20/30
        {
            "periodStart": "2026-09-01",
            "periodEnd": "2026-09-10",
            "quantity": "4",
            "amount": "26.67",
        },
        {
            "periodStart": "2026-09-11",
            "periodEnd": "2026-09-30",
            "quantity": "6",
            "amount": "80.00",
        },
    ]
    assert invoice["invoice"]["total"] == "106.67"
    # and the syncer handled invoice.issued, and the billing contact's mail holds the PDF
    with Session(sync_engine) as session:
        handled = session.scalars(
            select(ProcessedEvent.type).where(ProcessedEvent.type == "invoice.issued")
        ).all()
        mail = session.scalars(
            select(MailMessage).where(MailMessage.template == "invoice_issued")
        ).one()
        attachment = session.scalars(
            select(MailAttachment).where(MailAttachment.message_id == mail.id)
        ).one()
    assert handled == ["invoice.issued"]
    assert mail.to_addresses == [f"accounts@{tenants.a.domain}"]
    assert attachment.content.startswith(b"%PDF-")
