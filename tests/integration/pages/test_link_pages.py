"""The pages behind the links Prism mails, through real HTTP with links from real mails.

Each mail is sent by the real sender over SMTP to the development sink (a Maildir), read back
from there, and its link opened against the app: GET shows a form and never uses the link up
(mail scanners open links first), POST acts through the mutation's own use case, and every
outcome is a page that says what happened."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from graphql import parse, validate
from sqlalchemy import Engine, update

from prism_graph.app import create_app
from prism_graph.database import Database
from prism_graph.mail.runner import build_sender, start_dev_sink
from prism_graph.mail.settings import MailSettings
from prism_graph.mail.sink import SinkHandle, list_received, read_received
from prism_graph.schema import build_schema
from prism_graph.settings import GraphSettings
from prism_platform.db import utcnow
from prism_tables.contacts import CustomerContactLink
from tests.integration.contacts.support import (
    ADD_CUSTOMER_CONTACT,
    CUSTOMER_CONTACTS,
    REQUEST_SIGN_IN,
    RESEND,
    create_customer,
    mutate,
)
from tests.integration.mail.conftest import free_port
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

LINK = re.compile(r"https?://[^\s\"'<>]+")


class Sink:
    """The development SMTP sink and the real sender that delivers the mail outbox to it."""

    def __init__(self, handle: SinkHandle, settings: MailSettings, engine: Engine) -> None:
        self.handle = handle
        self.sender = build_sender(settings, engine)
        self.seen: set[str] = set()

    def links(self, to: str, path: str) -> list[str]:
        """Deliver what is pending; the links to `path` in the new mails to `to`."""
        while self.sender.send_pending():
            pass
        found = []
        for item in list_received(self.handle.maildir):
            if item.key in self.seen or to not in item.to:
                continue
            self.seen.add(item.key)
            body = read_received(self.handle.maildir, item.key).get_body(preferencelist=("plain",))
            assert body is not None
            found += [u for u in LINK.findall(body.get_content()) if urlsplit(u).path == path]
        return found

    def link(self, to: str, path: str) -> str:
        (one,) = self.links(to, path)
        return one


@pytest.fixture
def sink(database_url: str, sync_engine: Engine, tmp_path: Path) -> Iterator[Sink]:
    settings = MailSettings(
        database_url=database_url,
        prism_env="test",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        mail_sink_dir=tmp_path / "mail",
    )
    with start_dev_sink(settings) as handle:
        yield Sink(handle, settings, sync_engine)


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client of the app, as a browser without a portal would be."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        yield http


def local(link: str) -> str:
    """The link's path and query, to ask the app under test."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def text_of(page: httpx.Response) -> str:
    """The page's words, tags dropped."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


def form_of(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's form (the token)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))


def assert_a_page(page: httpx.Response) -> None:
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in page.text and "<h1>" in page.text
    assert "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    # Nothing is loaded from anywhere but Prism itself (links to other pages may be absolute).
    assert not re.search(r'src="https?://|<link[^>]* href="https?://', page.text)


async def add_contact(client: GraphQLClient, tenants: Tenants, email: str) -> str:
    customer = await create_customer(
        client, f"Fabrikam {uuid.uuid4().hex[:6]}", "fabrikam.example", tenants.a.gid
    )
    added = await mutate(
        client,
        ADD_CUSTOMER_CONTACT,
        input={"customerId": customer, "displayName": "Pat Kim", "email": email},
    )
    assert added["errors"] == []
    return customer


async def verified_flags(client: GraphQLClient, customer: str) -> list[bool]:
    data = await client.data(CUSTOMER_CONTACTS, {"id": customer})
    return [c["verified"] for c in data["customerContacts"]]


async def test_verify_an_address_from_its_mail(
    client: GraphQLClient, tenants: Tenants, sink: Sink, browser: httpx.AsyncClient
) -> None:
    customer = await add_contact(client, tenants, "pat@fabrikam.example")
    link = sink.link("pat@fabrikam.example", "/contacts/verify")

    for _ in range(2):  # a mail scanner, then the person: neither uses the link up
        shown = await browser.get(local(link))
        assert shown.status_code == 200, shown.text
        assert_a_page(shown)
        assert "Verify your e-mail address" in text_of(shown)
        assert '<form method="post"' in shown.text
    assert await verified_flags(client, customer) == [False]

    done = await browser.post("/contacts/verify", data=form_of(shown))
    assert done.status_code == 200 and "Your e-mail address is verified" in text_of(done)
    assert_a_page(done)
    assert await verified_flags(client, customer) == [True]

    again = await browser.post("/contacts/verify", data=form_of(shown))
    assert again.status_code == 410
    assert "This link was used already" in text_of(again)


async def test_a_replaced_expired_or_unknown_link_says_so(
    client: GraphQLClient,
    tenants: Tenants,
    sink: Sink,
    browser: httpx.AsyncClient,
    sync_engine: Engine,
) -> None:
    customer = await add_contact(client, tenants, "lou@fabrikam.example")
    first = sink.link("lou@fabrikam.example", "/contacts/verify")
    (contact,) = (await client.data(CUSTOMER_CONTACTS, {"id": customer}))["customerContacts"]
    assert (await mutate(client, RESEND, id=contact["id"]))["errors"] == []
    second = sink.link("lou@fabrikam.example", "/contacts/verify")

    replaced = await browser.post(local(first), data={})  # the token from the address alone
    assert replaced.status_code == 410
    assert "This link was replaced by a newer one" in text_of(replaced)
    assert "use the link in the latest e-mail" in text_of(replaced)

    with sync_engine.begin() as conn:
        conn.execute(update(CustomerContactLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = await browser.post(local(second), data={})
    assert expired.status_code == 410 and "This link has expired" in text_of(expired)

    unknown = await browser.post("/contacts/verify", data={"token": "prism_nope"})
    assert unknown.status_code == 404 and "This link is not valid" in text_of(unknown)
    missing = await browser.get("/contacts/verify")
    assert missing.status_code == 400 and "This link is incomplete" in text_of(missing)
    assert await verified_flags(client, customer) == [False]  # nothing changed


async def test_a_contact_signs_in_from_the_mailed_link(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    sink: Sink,
    browser: httpx.AsyncClient,
) -> None:
    await add_contact(client, tenants, "kim@fabrikam.example")
    verify = sink.link("kim@fabrikam.example", "/contacts/verify")
    assert (await browser.post(local(verify), data={})).status_code == 200
    assert (await mutate(anonymous, REQUEST_SIGN_IN, email="kim@fabrikam.example"))["errors"] == []
    link = sink.link("kim@fabrikam.example", "/contacts/sign-in")

    shown = await browser.get(local(link))
    assert shown.status_code == 200 and '<button type="submit">Sign in</button>' in shown.text
    signed = await browser.post("/contacts/sign-in", data=form_of(shown))
    assert signed.status_code == 200, signed.text
    assert_a_page(signed)
    token = re.search(r'<output class="token" id="access-token"[^>]*>([^<]+)</output>', signed.text)
    assert token is not None
    assert "Authorization: Bearer <token>" in text_of(signed)

    me = await anonymous.as_(token.group(1)).data("{ me { kind label } }")
    assert me["me"]["kind"] == "CONTACT"
    used = await browser.post("/contacts/sign-in", data=form_of(shown))
    assert used.status_code == 410 and "used already" in text_of(used)


async def rfi_link(
    client: GraphQLClient, anonymous: GraphQLClient, tenants: Tenants, sink: Sink
) -> str:
    catalogue = await make_catalogue(client)
    partner = anonymous.as_(tenants.a.admin)
    prospect = await new_prospect(partner, tenants, "Contoso Pty Ltd")
    order = (await create_order(partner, prospect, **order_input(catalogue, start_next_month())))[
        "order"
    ]
    submitted = await submit_order(partner, order["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == []
    return sink.link("lee.chen@contoso.example", "/rfi")


RFI_FORM_QUERY = (
    "query($t: String!) { rfiForm(token: $t) { form { companyName } errors { code } } }"
)


async def test_the_rfi_form_from_its_mail(
    client: GraphQLClient,
    anonymous: GraphQLClient,
    tenants: Tenants,
    sink: Sink,
    browser: httpx.AsyncClient,
) -> None:
    link = await rfi_link(client, anonymous, tenants, sink)
    token = urlsplit(link).query.removeprefix("token=")

    shown = await browser.get(local(link))
    assert shown.status_code == 200, shown.text
    assert_a_page(shown)
    words = text_of(shown)
    assert "Partner A ordered for Contoso Pty Ltd" in words
    for label in (
        "Name",
        "E-mail address",
        "Mail domains",
        "Number of users",
        "Current mail platform",
    ):
        assert label in words
    # Every input has a label pointing at it.
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', shown.text))
    assert ids and ids <= set(re.findall(r'<label[^>]* for="([^"]+)"', shown.text))

    bad = await browser.post(
        "/rfi",
        data={
            **form_of(shown),
            "technicalContactName": "Sam Ortiz",
            "technicalContactEmail": "not-an-address",
            "domains": "",
            "userCount": "many",
            "mailPlatform": "MICROSOFT_365",
        },
    )
    assert bad.status_code == 400, bad.text
    assert_a_page(bad)
    assert 'role="alert"' in bad.text
    assert re.search(r'id="userCount"[^>]*aria-invalid="true"', bad.text)
    assert re.search(r'id="domains"[^>]*aria-invalid="true"', bad.text)
    assert re.search(r'id="technicalContactEmail"[^>]*aria-invalid="true"', bad.text)
    words = text_of(bad)
    assert "The number of users must be a whole number." in words
    assert "Name at least one mail domain." in words
    assert 'value="Sam Ortiz"' in bad.text  # what was typed stays
    still_open = await anonymous.data(RFI_FORM_QUERY, {"t": token})
    assert still_open["rfiForm"]["errors"] == []  # nothing changed

    done = await browser.post(
        "/rfi",
        data={
            **form_of(shown),
            "technicalContactName": "Sam Ortiz",
            "technicalContactEmail": "sam.ortiz@contoso.example",
            "domains": "contoso.example\ncontoso-mail.example",
            "userCount": "10",
            "mailPlatform": "MICROSOFT_365",
            "migrateArchive": "yes",
            "archiveSource": "Exchange journal",
            "archiveSizeGb": "120",
            "preferredGoLive": "2026-03-01",
        },
    )
    assert done.status_code == 200, done.text
    assert "Thank you: the answers are in" in text_of(done)
    spent = await anonymous.data(RFI_FORM_QUERY, {"t": token})
    assert [e["code"] for e in spent["rfiForm"]["errors"]] == ["ALREADY_USED"]
    again = await browser.get(local(link))
    assert again.status_code == 410 and "This link was used already" in text_of(again)


INVITE = """
mutation($input: InviteUserInput!) { inviteUser(input: $input) { errors { code message } } }
"""


async def test_an_invited_user_sets_a_password_from_the_mail(
    anonymous: GraphQLClient, tenants: Tenants, sink: Sink, browser: httpx.AsyncClient
) -> None:
    admin = anonymous.as_(tenants.a.admin)
    invited = await admin.data(
        INVITE,
        {"input": {"email": "robin@partner-a.example", "displayName": "Robin", "role": "MEMBER"}},
    )
    assert invited["inviteUser"]["errors"] == []
    link = sink.link("robin@partner-a.example", "/accept-invitation")

    shown = await browser.get(local(link))
    assert shown.status_code == 200 and "Set your password" in text_of(shown)
    assert_a_page(shown)
    assert 'autocomplete="new-password"' in shown.text

    differ = await browser.post(
        "/accept-invitation",
        data={**form_of(shown), "password": "a long passphrase", "confirmation": "another one"},
    )
    assert differ.status_code == 400 and "The two passwords differ." in text_of(differ)
    weak = await browser.post(
        "/accept-invitation", data={**form_of(shown), "password": "short", "confirmation": "short"}
    )
    assert weak.status_code == 400 and "Use at least" in text_of(weak)
    assert re.search(r'id="password"[^>]*aria-invalid="true"', weak.text)

    password = "correct horse battery staple"
    done = await browser.post(
        "/accept-invitation",
        data={**form_of(shown), "password": password, "confirmation": password},
    )
    assert done.status_code == 200 and "Your password is set" in text_of(done)
    signed_in = await anonymous.data(
        "mutation($i: SignInInput!) { signIn(input: $i) { accessToken errors { code } } }",
        {"i": {"email": "robin@partner-a.example", "password": password}},
    )
    assert signed_in["signIn"]["accessToken"]


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/psa-sync/invoice-runs/12", "Invoice sync run 12"),
        ("/psa-sync/product-runs/7", "Product sync run 7"),
        ("/usage-reports", "Usage reports"),
    ],
)
async def test_a_portal_screen_without_a_portal_says_how_to_get_it(
    browser: httpx.AsyncClient, path: str, title: str
) -> None:
    page = await browser.get(path)
    assert page.status_code == 200
    assert_a_page(page)
    words = text_of(page)
    assert title in words and "PORTAL_URL" in words and "Authorization: Bearer" in words
    assert 'href="http://127.0.0.1:8000/graphql"' in page.text  # GraphiQL, on in tests
    (query,) = re.findall(r"<pre><code>(.*?)</code></pre>", page.text, re.S)
    assert validate(build_schema()._schema, parse(html.unescape(query))) == []


async def test_without_graphiql_the_pages_do_not_point_at_it(
    settings: GraphSettings, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"graphiql": False}), database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://prism.test") as http:
        page = await http.get("/usage-reports")
    assert page.status_code == 200 and "GraphiQL" not in page.text
