"""O5 for machines: an API client has no mailbox, so the addendum goes to the partner's
BILLING contacts (C1), who receive its invoices too."""

from __future__ import annotations

import pytest

from prism_domain.access import Scope
from prism_domain.contacts import ContactType
from prism_graph.contacts import by_type
from prism_graph.contacts.accounts import AccountRef
from prism_graph.database import Database
from tests.integration.orders.conftest import Mailbox
from tests.integration.orders.support import (
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    new_prospect,
    order_input,
    start_next_month,
    submit_order,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration


async def test_an_api_client_order_mails_the_addendum_to_the_billing_contacts(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    database: Database,
    tenants: Tenants,
    mailbox: Mailbox,
) -> None:
    # given partner A with a BILLING contact and an API client
    catalogue = await make_catalogue(client)
    added = await by_type.add_contact(
        database,
        Scope(all_partners=True),
        AccountRef(organisation_id=tenants.a.id),
        first_name="Bea",
        last_name="Ling",
        email="accounts@partner-a.example",
        contact_type=ContactType.BILLING,
    )
    assert not isinstance(added, list)
    a_admin = anonymous.as_(tenants.a.admin)
    created = await a_admin.data(
        'mutation { createApiClient(input: {name: "Provisioning"}) { apiClient { clientId } clientSecret } }'
    )
    credentials = created["createApiClient"]
    response = await anonymous.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials["apiClient"]["clientId"],
            "client_secret": credentials["clientSecret"],
        },
    )
    machine = anonymous.as_(response.json()["access_token"])

    # when the client orders for a prospect and submits
    prospect = await new_prospect(machine, tenants)
    order = (await create_order(machine, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]
    submitted = await submit_order(machine, order["id"], **SUBMIT_DETAILS)

    # then the addendum goes to the BILLING contact, the RFI link to the implementation lead
    assert submitted["errors"] == []
    client_id = credentials["apiClient"]["clientId"]
    assert submitted["order"]["submittedBy"] == f"Provisioning (API client {client_id})"
    received = {m["To"]: m for m in mailbox.deliver()}
    assert set(received) == {"accounts@partner-a.example", "lee.chen@contoso.example"}
    (pdf,) = list(received["accounts@partner-a.example"].iter_attachments())
    assert pdf.get_content().startswith(b"%PDF")
