"""Shared by the contacts tests: a real SMTP server, the mail sender, GraphQL helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote

import pytest
import redis
from sqlalchemy import Engine, text

from prism_graph.contacts.config import THROTTLE_NAMESPACE
from prism_graph.mail.sender import MailSender
from prism_graph.mail.settings import MailSettings
from tests.integration.mail.conftest import Received, SmtpServer, free_port
from tests.support.backends import redis_requested
from tests.support.graphql import GraphQLClient


class Mailbox:
    """What the SMTP server received, delivered by the real sender on demand."""

    def __init__(self, server: SmtpServer, sender: MailSender) -> None:
        self.server = server
        self.sender = sender
        self.seen = 0

    def deliver(self) -> list[Received]:
        """Send everything pending now; the messages that arrived since the last call."""
        self.sender.send_pending()
        new = self.server.received[self.seen :]
        self.seen = len(self.server.received)
        return list(new)


@pytest.fixture(autouse=True)
def fresh_sign_in_throttle() -> Iterator[None]:
    """Sign-in link requests of earlier tests (and runs) do not count against this one."""
    url = redis_requested()
    if url is not None:
        client = redis.Redis.from_url(url)
        keys = client.keys(f"{THROTTLE_NAMESPACE}:*")
        if keys:
            client.delete(*keys)
        client.close()
    yield


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(database_url: str, sync_engine: Engine, smtp_server: SmtpServer) -> Mailbox:
    settings = MailSettings(
        database_url=database_url,
        prism_env="test",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="Prism <notices@prism.example>",
        mail_smtp_timeout=5,
    )
    return Mailbox(smtp_server, MailSender(sync_engine, settings))


def waiting_on_a_lock(engine: Engine) -> bool:
    """PostgreSQL: some session of this database waits for a row lock right now."""
    with engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_token(message: EmailMessage) -> str:
    """The token of the (single) link in a verification or sign-in mail."""
    found = re.search(r"[?&]token=([^\s&]+)", text_of(message))
    assert found, text_of(message)
    return unquote(found.group(1))


def fields(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def mutate(client: GraphQLClient, query: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(query, variables)
    (payload,) = data.values()
    assert isinstance(payload, dict)
    return payload


ADD_ACCOUNT_CONTACT = """
mutation($input: AddAccountContactInput!) {
  addAccountContact(input: $input) {
    contact { id firstName lastName email types }
    errors { field code message }
  }
}"""

ADD_TO_TYPE = """
mutation($input: ContactTypeInput!) {
  addContactToType(input: $input) { contact { id types } errors { field code message } }
}"""

REMOVE_FROM_TYPE = """
mutation($input: ContactTypeInput!) {
  removeContactFromType(input: $input) { contact { id types } errors { field code message } }
}"""

ACCOUNT_CONTACTS = """
query($id: ID!) {
  accountContacts(accountId: $id) {
    contacts { email types }
    byType { type contacts { email } }
  }
}"""

ADD_CUSTOMER_CONTACT = """
mutation($input: AddCustomerContactInput!) {
  addCustomerContact(input: $input) {
    contact { id displayName email role verified }
    errors { field code message }
  }
}"""

CUSTOMER_CONTACTS = """
query($id: ID!) { customerContacts(customerId: $id) { id email role verified } }"""

VERIFY = """
mutation($token: String!) {
  verifyCustomerContact(input: {token: $token}) { verified errors { field code message } }
}"""

RESEND = """
mutation($id: ID!) {
  resendCustomerContactVerification(input: {id: $id}) { contact { id } errors { field code message } }
}"""

SET_ROLE = """
mutation($input: SetCustomerContactRoleInput!) {
  setCustomerContactRole(input: $input) {
    contact { id email role } errors { field code message }
  }
}"""

DELETE = """
mutation($input: DeleteCustomerContactInput!) {
  deleteCustomerContact(input: $input) { deletedId errors { field code message } }
}"""

REQUEST_SIGN_IN = """
mutation($email: String!) { requestContactSignIn(input: {email: $email}) { message errors { code } } }"""

SIGN_IN = """
mutation($token: String!) {
  signInWithContactLink(input: {token: $token}) {
    accessToken expiresAt contact { email role } errors { field code message }
  }
}"""

CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { field code } }
}"""


async def create_customer(
    client: GraphQLClient, name: str, domain: str, partner: str | None
) -> str:
    input: dict[str, Any] = {"name": name, "domain": domain}
    if partner:
        input["partnerId"] = partner
    payload = await mutate(client, CREATE_CUSTOMER, input=input)
    assert payload["errors"] == []
    customer_id: str = payload["customer"]["id"]
    return customer_id


UPDATE_CUSTOMER_CONTACT = """
mutation($input: UpdateCustomerContactInput!) {
  updateCustomerContact(input: $input) {
    contact { id displayName email role verified } errors { field code message }
  }
}"""

UPDATE_ACCOUNT_CONTACT = """
mutation($input: UpdateAccountContactInput!) {
  updateAccountContact(input: $input) {
    contact { id firstName lastName email types } errors { field code message }
  }
}"""

DELETE_ACCOUNT_CONTACT = """
mutation($input: DeleteAccountContactInput!) {
  deleteAccountContact(input: $input) { deletedId errors { field code message } }
}"""
