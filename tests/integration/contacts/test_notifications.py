"""Notices by contact type really mailed (SPEC C1, C5): invoice issued (with the invoice
attached), statement due, usage report requested."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from prism_graph.contacts.accounts import AccountRef
from prism_graph.contacts.notify import (
    notify_invoice_issued,
    notify_statement_due,
    notify_usage_report_requested,
)
from prism_graph.database import Database
from prism_graph.mail.outbox import Attachment
from tests.integration.contacts.support import (
    ADD_ACCOUNT_CONTACT,
    ADD_TO_TYPE,
    Mailbox,
    create_customer,
    fields,
    mutate,
    text_of,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

pytestmark = pytest.mark.integration

# A fabricated invoice document: bytes a careless encoder would mangle.
INVOICE_PDF = b"%PDF-1.7\n" + bytes(range(256)) + b"\r\n.\r\n%%EOF\n"

STATEMENT_DUE = """
mutation($input: StatementDueInput!) {
  sendStatementDueNotice(input: $input) { recipients errors { field code message } }
}"""
USAGE_REPORT = """
mutation($input: UsageReportRequestInput!) {
  requestUsageReport(input: $input) { recipients errors { field code message } }
}"""


async def contact(client: GraphQLClient, account: str, email: str, *types: str) -> str:
    first, last = email.split("@")[0].split(".")
    added = await mutate(
        client,
        ADD_ACCOUNT_CONTACT,
        input={
            "accountId": account,
            "firstName": first.title(),
            "lastName": last.title(),
            "email": email,
            "type": types[0],
        },
    )
    for more in types[1:]:
        await mutate(client, ADD_TO_TYPE, input={"contactId": added["contact"]["id"], "type": more})
    contact_id: str = added["contact"]["id"]
    return contact_id


def pk(global_id: str) -> int:
    import base64

    return int(base64.b64decode(global_id).decode().rpartition(":")[2])


async def invoice_issued(database: Database, account: AccountRef, invoice_id: int) -> int:
    async with database.unit_of_work() as uow:
        sent = await notify_invoice_issued(
            uow.session,
            account,
            invoice_id=invoice_id,
            invoice_number=f"INV-{invoice_id}",
            program_name="Microsoft CSP",
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            total=Decimal("1234.5"),
            currency="EUR",
            due_date=date(2026, 12, 15),
            document=Attachment(f"INV-{invoice_id}.pdf", "application/pdf", INVOICE_PDF),
        )
        await uow.commit()
    return sent


async def test_an_issued_invoice_goes_to_each_billing_contact_with_the_invoice_attached(
    client: GraphQLClient, tenants: Tenants, database: Database, mailbox: Mailbox
) -> None:
    customer = await create_customer(client, "Fabrikam", "fabrikam.example", tenants.a.gid)
    await contact(client, customer, "ann.lee@fabrikam.example", "BILLING", "STATEMENT")
    await contact(client, customer, "bob.ray@fabrikam.example", "BILLING")
    await contact(client, customer, "cy.fox@fabrikam.example", "STATEMENT", "USAGE_REPORTING")
    account = AccountRef(customer_id=pk(customer))

    assert await invoice_issued(database, account, 42) == 2
    assert await invoice_issued(database, account, 42) == 0  # retried: nobody mailed twice

    received = sorted(mailbox.deliver(), key=lambda r: r.rcpt_tos)
    assert [r.rcpt_tos for r in received] == [
        ("ann.lee@fabrikam.example",),
        ("bob.ray@fabrikam.example",),
    ]
    for mail in received:
        assert mail.message["Subject"] == "Invoice INV-42 for Fabrikam (Microsoft CSP)"
        assert "EUR 1,234.50" in text_of(mail.message)
        (attachment,) = mail.message.iter_attachments()
        assert attachment.get_filename() == "INV-42.pdf"
        assert attachment.get_content() == INVOICE_PDF
    assert "Hello Ann Lee," in text_of(received[0].message)
    assert mailbox.deliver() == []


async def test_a_rolled_back_caller_sends_nothing(
    client: GraphQLClient, tenants: Tenants, database: Database, mailbox: Mailbox
) -> None:
    await contact(client, tenants.a.gid, "ann.lee@partner-a.example", "BILLING")
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            await notify_invoice_issued(
                uow.session,
                AccountRef(organisation_id=tenants.a.id),
                invoice_id=7,
                invoice_number="INV-7",
                program_name="SPLA",
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                total=Decimal("10"),
                currency="EUR",
                due_date=date(2026, 12, 1),
                document=Attachment("INV-7.pdf", "application/pdf", INVOICE_PDF),
            )
            raise RuntimeError("issuing the invoice failed")
    assert mailbox.deliver() == []


async def test_staff_trigger_a_statement_notice_and_a_usage_report_request(
    client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    await contact(client, tenants.a.gid, "ann.lee@partner-a.example", "STATEMENT")
    await contact(client, tenants.a.gid, "bob.ray@partner-a.example", "USAGE_REPORTING")
    await contact(client, tenants.a.gid, "cy.fox@partner-a.example", "BILLING")
    statement = {
        "accountId": tenants.a.gid,
        "statementDate": "2026-11-30",
        "amountDue": "980.10",
        "currency": "eur",
        "dueDate": "2026-12-14",
    }

    sent = await mutate(client, STATEMENT_DUE, input=statement)
    again = await mutate(client, STATEMENT_DUE, input=statement)
    usage = await mutate(
        client,
        USAGE_REPORT,
        input={
            "accountId": tenants.a.gid,
            "programName": "Microsoft SPLA",
            "periodStart": "2026-11-01",
            "periodEnd": "2026-11-30",
            "dueDate": "2026-12-05",
        },
    )

    assert sent == {"recipients": 1, "errors": []}
    assert again == {"recipients": 0, "errors": []}  # the same statement is not sent twice
    assert usage == {"recipients": 1, "errors": []}
    received = {r.rcpt_tos[0]: r.message for r in mailbox.deliver()}
    assert set(received) == {"ann.lee@partner-a.example", "bob.ray@partner-a.example"}
    notice = received["ann.lee@partner-a.example"]
    assert notice["Subject"] == (
        "Statement of account for Partner A: EUR 980.10 due 14 December 2026"
    )
    request = received["bob.ray@partner-a.example"]
    # A subject this long is folded onto the next header line: compare its words.
    assert " ".join(str(request["Subject"]).split()) == (
        "Usage report requested: Microsoft SPLA, 1 November 2026 to 30 November 2026"
    )
    assert "/usage-reports" in text_of(request)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"currency": "euro"}, [("input.currency", "INVALID")]),
        ({"amountDue": "-1"}, [("input.amountDue", "OUT_OF_RANGE")]),
        ({"link": "javascript:alert(1)"}, [("input.link", "INVALID")]),
        ({"accountId": "Q3VzdG9tZXI6OTk5OTk="}, [("input.accountId", "NOT_FOUND")]),
    ],
)
async def test_bad_notice_input_is_refused_and_mails_nothing(
    client: GraphQLClient,
    tenants: Tenants,
    mailbox: Mailbox,
    override: dict[str, Any],
    expected: Any,
) -> None:
    await contact(client, tenants.a.gid, "ann.lee@partner-a.example", "STATEMENT")
    statement = {
        "accountId": tenants.a.gid,
        "statementDate": "2026-11-30",
        "amountDue": "1",
        "currency": "EUR",
        "dueDate": "2026-12-14",
    }
    payload = await mutate(client, STATEMENT_DUE, input={**statement, **override})
    assert fields(payload) == expected
    assert payload["recipients"] == 0
    assert mailbox.deliver() == []


async def test_notices_are_for_staff_of_the_account_only(
    anonymous: GraphQLClient, client: GraphQLClient, tenants: Tenants, mailbox: Mailbox
) -> None:
    await contact(client, tenants.b.gid, "ann.lee@partner-b.example", "USAGE_REPORTING")
    partner_a = anonymous.as_(tenants.a.admin)
    usage = {
        "accountId": tenants.b.gid,
        "programName": "Citrix CSP",
        "periodStart": "2026-11-01",
        "periodEnd": "2026-10-01",
        "dueDate": "2026-12-05",
    }
    assert fields(await mutate(partner_a, USAGE_REPORT, input=usage)) == [
        ("input.periodEnd", "OUT_OF_RANGE")
    ]
    usage["periodEnd"] = "2026-11-30"
    assert fields(await mutate(partner_a, USAGE_REPORT, input=usage)) == [
        ("input.accountId", "NOT_FOUND")
    ]
    assert mailbox.deliver() == []


async def test_usage_and_statement_helpers_count_only_new_mails(
    client: GraphQLClient, tenants: Tenants, database: Database, mailbox: Mailbox
) -> None:
    await contact(
        client, tenants.a.gid, "ann.lee@partner-a.example", "STATEMENT", "USAGE_REPORTING"
    )
    account = AccountRef(organisation_id=tenants.a.id)
    async with database.unit_of_work() as uow:
        statements = await notify_statement_due(
            uow.session,
            account,
            statement_date=date(2026, 11, 30),
            amount_due=Decimal("5"),
            currency="EUR",
            due_date=date(2026, 12, 14),
        )
        usage = [
            await notify_usage_report_requested(
                uow.session,
                account,
                program_name="Citrix CSP",
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                due_date=date(2026, 12, 5),
                link="https://portal.example/usage",
            )
            for _ in range(2)
        ]
        await uow.commit()
    assert (statements, usage) == (1, [1, 0])
    assert len(mailbox.deliver()) == 2
