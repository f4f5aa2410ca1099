"""Helpers for the order tests: a small Mimecast-like catalogue, order queries, PDF text."""

from __future__ import annotations

import calendar
import re
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.support.catalogue import create_customer, create_product, create_program
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants

ORDER_FIELDS = """
  id reference status permittedUsers startDate orderNumber orderNumberNotRequired
  msaAcknowledged authorisedAcknowledged implementationLeadName implementationLeadEmail
  companyName msp { name } customer { id status }
  lines { sku name kind billingTerm quantity unitPrice amount firstPaymentAmount
          subscription { id sku quantity startDate billingTerm } }
  currency ongoingMonthlyPayment annualPayment oneTimeFees firstPayment firstPeriodEnd
  submittedAt submittedBy
  addendum { id filename contentType size }
  rfi { expiresAt completedAt completedBy answers { technicalContactEmail domains userCount } }
"""
ERRORS = "errors { field code message }"


@dataclass
class Catalogue:
    monthly: str  # 8.10 a user a month
    annual: str  # 120.00 a user a year
    onboarding: str  # a one-time fee of 150.00


CHANGE_QUANTITY = """mutation($input: ChangeSubscriptionQuantityInput!) {
  changeSubscriptionQuantity(input: $input) { errors { code message } } }"""


async def make_catalogue(distributor: GraphQLClient) -> Catalogue:
    program = await create_program(distributor, f"Mimecast {uuid.uuid4().hex[:6]}", "AUD")
    return Catalogue(
        monthly=await create_product(
            distributor, program, name="Email Security Cloud Gateway", buy_price="8.10", rrp="9.50"
        ),
        annual=await create_product(
            distributor,
            program,
            name="Email Security Cloud Archive (annual)",
            buy_price="120.00",
            rrp="140.00",
            billing_term="ANNUAL",
        ),
        onboarding=await create_product(
            distributor,
            program,
            name="Onboarding service",
            buy_price="150.00",
            rrp="200.00",
            kind="ONE_TIME_FEE",
        ),
    )


async def program_of(client: GraphQLClient, product_id: str) -> str:
    """The id of the program a product belongs to, through the API."""
    found = await client.data(
        "query($id: ID!) { node(id: $id) { ... on Product { program { id } } } }",
        {"id": product_id},
    )
    return str(found["node"]["program"]["id"])


def start_next_month(day: int = 17) -> date:
    """A start date in the next calendar month, so it is never in the past."""
    today = datetime.now(UTC).date()
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next.replace(day=day)


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


async def new_prospect(client: GraphQLClient, tenants: Tenants, name: str | None = None) -> str:
    return await create_customer(client, tenants.a.gid, name or f"Contoso {uuid.uuid4().hex[:6]}")


def order_input(catalogue: Catalogue, start: date, **extra: Any) -> dict[str, Any]:
    return {
        "permittedUsers": 10,
        "startDate": start.isoformat(),
        "lines": [
            {"productId": catalogue.monthly, "quantity": 10},
            {"productId": catalogue.annual, "quantity": 2},
            {"productId": catalogue.onboarding, "quantity": 1},
        ],
        "implementationLeadName": "Lee Chen",
        "implementationLeadEmail": "lee.chen@contoso.example",
        **extra,
    }


async def create_order(client: GraphQLClient, customer_id: str, **input: Any) -> dict[str, Any]:
    data = await client.data(
        f"mutation($input: CreateOrderInput!) {{ createOrder(input: $input) {{"
        f" order {{ {ORDER_FIELDS} }} {ERRORS} }} }}",
        {"input": {"customerId": customer_id, **input}},
    )
    payload: dict[str, Any] = data["createOrder"]
    return payload


async def save_order(client: GraphQLClient, order_id: str, **input: Any) -> dict[str, Any]:
    data = await client.data(
        f"mutation($input: SaveOrderInput!) {{ saveOrder(input: $input) {{"
        f" order {{ {ORDER_FIELDS} }} {ERRORS} }} }}",
        {"input": {"id": order_id, **input}},
    )
    payload: dict[str, Any] = data["saveOrder"]
    return payload


async def submit_order(client: GraphQLClient, order_id: str, **input: Any) -> dict[str, Any]:
    data = await client.data(
        f"mutation($input: SubmitOrderInput!) {{ submitOrder(input: $input) {{"
        f" order {{ {ORDER_FIELDS} }} {ERRORS} }} }}",
        {"input": {"id": order_id, **input}},
    )
    payload: dict[str, Any] = data["submitOrder"]
    return payload


SUBMIT_DETAILS = {
    "orderNumber": "PO-4471",
    "msaAcknowledged": True,
    "authorisedAcknowledged": True,
}

RFI_ANSWERS = {
    "technicalContactName": "Sam Ortiz",
    "technicalContactEmail": "sam.ortiz@contoso.example",
    "domains": ["contoso.example", "contoso-mail.example"],
    "userCount": 10,
    "mailPlatform": "MICROSOFT_365",
    "migrateArchive": True,
    "archiveSource": "Exchange journal",
    "archiveSizeGb": 120,
    "notes": "Cut over MX after hours.",
}


def pdf_text(document: bytes) -> str:
    """The text drawn by a PDF's content streams (fpdf2 deflates them), for assertions."""
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", document, re.S):
        raw = match.group(1)
        try:
            chunks.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            chunks.append(raw.decode("latin-1"))
    return "\n".join(chunks)


def rfi_token(text: str) -> str:
    match = re.search(r"/rfi\?token=([A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)
