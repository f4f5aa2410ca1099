"""The invoice PDF through the API (C5): the file the BILLING mail attaches, byte for byte,
as Prism's local SMTP sink received it; a real PDF naming the invoice and its total; and
another partner's invoice is not found."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import fpdf
import pytest
from sqlalchemy import Engine

from prism_graph.mail.sender import MailSender
from prism_graph.mail.settings import MailSettings
from prism_graph.mail.sink import SinkHandle, list_received, read_received, start_sink
from tests.integration.mail.conftest import free_port
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.pdf import parse_pdf

pytestmark = pytest.mark.integration

RUN = """
mutation($input: RunBillingInput!) {
  runBilling(input: $input) { issued { id partner { name } } errors { field code message } }
}
"""

INVOICE = """
query($id: ID!) {
  invoice(id: $id) {
    number total currency issuedAt
    pdf { filename contentType size contentBase64 }
  }
}
"""


@pytest.fixture(autouse=True)
def drawing_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF library's clock jumps a day each time a PDF is started: a file dated when it is
    drawn, not when its invoice was issued, would differ from the one drawn before it."""
    started = itertools.count(1)
    init = fpdf.FPDF.__init__

    def start_later(self: fpdf.FPDF, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.creation_date = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=next(started))

    monkeypatch.setattr(fpdf.FPDF, "__init__", start_later)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SinkHandle]:
    """The SMTP sink `prism dev` runs, keeping what it receives in a Maildir."""
    with start_sink("127.0.0.1", free_port(), tmp_path / "mail") as handle:
        yield handle


def delivered(sink: SinkHandle, sync_engine: Engine, database_url: str) -> list[EmailMessage]:
    """Send what the mail outbox holds to the sink; every message the sink keeps."""
    settings = MailSettings(
        database_url=database_url,
        prism_env="test",
        smtp_host=sink.host,
        smtp_port=sink.port,
        mail_smtp_timeout=5,
    )
    sender = MailSender(sync_engine, settings)
    while sender.send_pending():
        pass
    return [read_received(sink.maildir, m.key) for m in list_received(sink.maildir)]


async def issued_invoice_of_partner_a(client: GraphQLClient) -> str:
    run = await client.data(RUN, {"input": {"month": "2026-10"}})
    assert run["runBilling"]["errors"] == []
    (invoice,) = [i for i in run["runBilling"]["issued"] if i["partner"]["name"] == "Partner A"]
    invoice_id: str = invoice["id"]
    return invoice_id


async def test_the_invoice_pdf_is_the_file_the_billing_mail_attached(
    client: GraphQLClient,
    tenants: Tenants,
    month_of_activity: dict[str, str],
    sink: SinkHandle,
    sync_engine: Engine,
    database_url: str,
) -> None:
    # Given October billed, and the mail to partner A's billing contact received by the sink
    invoice_id = await issued_invoice_of_partner_a(client)
    (mail,) = [m for m in delivered(sink, sync_engine, database_url) if "billing@" in str(m["To"])]
    (attached,) = list(mail.iter_attachments())
    mailed = attached.get_content()

    # When partner A's admin downloads the invoice's PDF through the API
    data = await client.as_(tenants.a.admin).data(INVOICE, {"id": invoice_id})

    # Then it is the mailed file, byte for byte, with its name and type
    invoice: dict[str, Any] = data["invoice"]
    file = invoice["pdf"]
    content = base64.b64decode(file["contentBase64"], validate=True)
    assert content == mailed
    assert (file["filename"], file["contentType"]) == (
        attached.get_filename(),
        attached.get_content_type(),
    )
    assert file == {
        "filename": f"{invoice['number']}.pdf",
        "contentType": "application/pdf",
        "size": len(content),
        "contentBase64": file["contentBase64"],
    }
    # and a real PDF: one a reader can walk, that names the invoice and its total
    assert content.startswith(b"%PDF-")
    document = parse_pdf(content)
    assert document.pages == 1
    assert document.title == f"Invoice {invoice['number']}"
    assert f"Invoice {invoice['number']}" in document.text
    assert f"Total {invoice['currency']} {invoice['total']}" in document.text
    assert "Fabrikam" in document.text and "Partner A" in document.text
    # dated when the invoice was issued, not when it was drawn: so it renders the same later
    assert document.created is not None
    issued_at = invoice["issuedAt"]  # e.g. 2026-12-03T09:08:49.123456+00:00
    assert document.created.startswith(
        "D:" + issued_at[:19].replace("-", "").replace("T", "").replace(":", "")
    )


async def test_the_pdf_is_the_same_file_every_time_it_is_asked_for(
    client: GraphQLClient, month_of_activity: dict[str, str]
) -> None:
    invoice_id = await issued_invoice_of_partner_a(client)

    first = await client.data(INVOICE, {"id": invoice_id})
    second = await client.data(INVOICE, {"id": invoice_id})

    assert first["invoice"]["pdf"] == second["invoice"]["pdf"]


async def test_another_partner_s_invoice_is_not_found(
    client: GraphQLClient, tenants: Tenants, month_of_activity: dict[str, str]
) -> None:
    invoice_id = await issued_invoice_of_partner_a(client)
    partner_b = client.as_(tenants.b.admin)

    direct = await partner_b.data(INVOICE, {"id": invoice_id})
    as_node = await partner_b.data(
        "query($id: ID!) { node(id: $id) { ... on Invoice { pdf { contentBase64 } } } }",
        {"id": invoice_id},
    )
    listed = await partner_b.data("query { invoices { edges { node { id pdf { size } } } } }")

    assert direct["invoice"] is None
    assert as_node["node"] is None
    assert invoice_id not in [e["node"]["id"] for e in listed["invoices"]["edges"]]
