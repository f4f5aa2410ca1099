"""A person with a browser and no internet (issue 14): `make run` as a real process, headless
Chromium from the Debian packages driven by Playwright, every request to anywhere but this
machine refused and counted.

GraphiQL opens and runs a query with the token its example sign-in returns; the verify-e-mail
and Request for Information pages are completed from the links of real mails, read from the
development mail sink.

Marked `browser`: `scripts/test.sh` runs it on its own and fails when Chromium is missing
there (PRISM_REQUIRE_BROWSER=1, set by CI); elsewhere it is skipped without Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from prism_graph.demo import DEMO_PASSWORD
from prism_graph.mail.sink import links_of, list_received, read_received
from tests.integration.orders.support import start_next_month
from tests.support.dev_system import DevSystem, running_dev
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PARTNER_ADMIN = "admin@contoso-partners.example"


def chromium_path() -> str | None:
    given = os.environ.get("PRISM_CHROMIUM")
    found = [given] if given else [*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""]
    return next((p for p in found if p and Path(p).is_file()), None)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "headless Chromium is missing: apt-get install -y chromium"
        if os.environ.get("PRISM_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def system(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevSystem]:
    """`make run` as a real process (only once Chromium is known to be there)."""
    with running_dev(tmp_path_factory.mktemp("prism-browser")) as running:
        yield running


class Offline:
    """Every request the browser makes; those to another host are aborted, as with no internet."""

    def __init__(self) -> None:
        self.elsewhere: list[str] = []
        self.seen: list[str] = []

    def route(self, route: Any) -> None:
        url = route.request.url
        self.seen.append(url)
        if urlsplit(url).hostname not in {"127.0.0.1", "localhost"} and not url.startswith("data:"):
            self.elsewhere.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()


@pytest.fixture
def browser_page(chromium: str) -> Iterator[tuple[Any, Offline]]:
    from playwright.sync_api import sync_playwright

    offline = Offline()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            # No name resolves but loopback's: nothing could reach the internet anyway.
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        context = browser.new_context()
        context.route("**/*", offline.route)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page, offline
        finally:
            context.close()
            browser.close()


def api(system: DevSystem, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def ask(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = httpx.post(
            f"{system.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=20,
        ).json()
        assert "errors" not in body, body
        return dict(body["data"])

    return ask


def staff_token(system: DevSystem, email: str = PARTNER_ADMIN) -> str:
    signed = api(system)(
        "mutation($i: SignInInput!) { signIn(input: $i) { accessToken errors { code } } }",
        {"i": {"email": email, "password": DEMO_PASSWORD}},
    )
    return str(signed["signIn"]["accessToken"])


def mailed_link(system: DevSystem, to: str, path: str) -> str:
    """The link to `path` in the mail that reached `to` (waiting for the sender to deliver)."""
    found: list[str] = []

    def arrived() -> bool:
        for item in list_received(system.maildir):
            if to in item.to:
                links = links_of(read_received(system.maildir, item.key))
                found.extend(u for u in links if urlsplit(u).path == path)
        return bool(found)

    wait_until(arrived, timeout=30, what=f"a mail to {to} with a {path} link")
    link = found[0]
    assert link.startswith(system.base + path), link  # the API's own address (S8)
    return link


def editor_value(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => el.CodeMirror.getValue()"))


def set_editor(page: Any, selector: str, value: str) -> None:
    page.eval_on_selector(selector, "(el, v) => el.CodeMirror.setValue(v)", value)


QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".result-window .CodeMirror"


def run_in_graphiql(page: Any, query: str, *, token: str | None = None) -> dict[str, Any]:
    """Put `query` in the editor and run it (Ctrl-Enter) until GraphiQL sends it, with the
    bearer token when given: GraphiQL takes an edit in after a moment, so the first runs may
    still send what the editors held before. The answer as GraphiQL shows it."""
    import time

    set_editor(page, QUERY_EDITOR, query)

    def sent_as_asked(request: Any) -> bool:
        body = json.loads(request.post_data or "{}")
        if body.get("query") != query or (body.get("operationName") or "") not in query:
            return False
        return token is None or request.headers.get("authorization") == f"Bearer {token}"

    deadline = time.monotonic() + 30
    while True:
        with page.expect_request(
            lambda r: r.method == "POST" and "IntrospectionQuery" not in (r.post_data or "")
        ) as sent:
            page.click(QUERY_EDITOR)
            page.keyboard.press("Control+Enter")
        request = sent.value
        response = request.response()
        if sent_as_asked(request):
            break
        assert time.monotonic() < deadline, "GraphiQL never sent the query as edited"
    assert response is not None and response.status == 200, (response.status, response.text())
    answer = response.json()

    def shown() -> bool:
        try:
            return bool(json.loads(editor_value(page, RESULT)) == answer)
        except ValueError:
            return False

    wait_until(shown, timeout=20, what="GraphiQL to show the answer")
    return dict(answer)


def test_graphiql_runs_a_query_with_a_token_offline(
    system: DevSystem, browser_page: tuple[Any, Offline]
) -> None:
    page, offline = browser_page
    with page.expect_response(lambda r: "IntrospectionQuery" in (r.request.post_data or "")):
        page.goto(f"{system.base}/graphql")  # GraphiQL loads, then asks for the schema
    page.wait_for_selector(QUERY_EDITOR)
    example = editor_value(page, QUERY_EDITOR)
    assert "mutation SignIn" in example and "Bearer <accessToken>" in example

    # The example's sign-in, as it stands, then its query with the token in the headers.
    sign_in = example[example.index("mutation SignIn") : example.index("query Customers")]
    signed = run_in_graphiql(page, sign_in)
    token = signed["data"]["signIn"]["accessToken"]
    assert token, signed
    page.get_by_role("button", name="Headers").click()
    headers = ".graphiql-editor-tool .CodeMirror"
    page.wait_for_function(
        "() => [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]"
        ".some(e => e.CodeMirror.getValue().includes('Authorization'))"
    )
    page.eval_on_selector_all(
        headers,
        "(editors, v) => editors.filter(e => e.CodeMirror.getValue().includes('Authorization'))"
        ".forEach(e => e.CodeMirror.setValue(v))",
        json.dumps({"Authorization": f"Bearer {token}"}),
    )
    answer = run_in_graphiql(
        page, "{ me { label } customers(first: 5) { totalCount } }", token=token
    )
    assert answer["data"]["me"]["label"], answer
    assert answer["data"]["customers"]["totalCount"] >= 1, answer

    assert offline.elsewhere == []  # nothing was asked of the internet
    assert any("/graphiql/assets/graphiql.min.js" in u for u in offline.seen)


def test_the_verify_and_rfi_pages_from_real_mails(
    system: DevSystem, browser_page: tuple[Any, Offline]
) -> None:
    page, offline = browser_page
    partner = api(system, staff_token(system))
    suffix = uuid.uuid4().hex[:6]
    customer = partner(
        "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) "
        "{ customer { id } errors { message } } }",
        {"i": {"name": f"Litware {suffix}", "domain": f"litware-{suffix}.example"}},
    )["createCustomer"]["customer"]["id"]

    # Verify an e-mail address: the link from the verification mail, in the browser.
    contact_email = f"pat@litware-{suffix}.example"
    added = partner(
        "mutation($i: AddCustomerContactInput!) { addCustomerContact(input: $i) "
        "{ errors { message } } }",
        {"i": {"customerId": customer, "displayName": "Pat Kim", "email": contact_email}},
    )
    assert added["addCustomerContact"]["errors"] == []
    page.goto(mailed_link(system, contact_email, "/contacts/verify"))
    assert page.get_by_role("heading", level=1).inner_text() == "Verify your e-mail address"
    page.get_by_role("button", name="Verify my e-mail address").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your e-mail address is verified"
    contacts = partner(
        "query($id: ID!) { customerContacts(customerId: $id) { email verified } }",
        {"id": customer},
    )["customerContacts"]
    assert contacts == [{"email": contact_email, "verified": True}]

    # The Request for Information: an order submitted for the customer mails its lead a link.
    program = next(
        p["id"]
        for p in partner("{ programs { id name } }")["programs"]
        if p["name"] == "Microsoft CSP"
    )
    products = partner(
        "query($p: ID!) { products(programId: $p, first: 50) "
        "{ edges { node { id kind billingTerm } } } }",
        {"p": program},
    )["products"]["edges"]
    product = next(
        e["node"]["id"]
        for e in products
        if e["node"]["kind"] == "LICENCE" and e["node"]["billingTerm"] == "MONTHLY"
    )
    lead = f"lee@litware-{suffix}.example"
    order = partner(
        "mutation($i: CreateOrderInput!) { createOrder(input: $i) "
        "{ order { id } errors { field message } } }",
        {
            "i": {
                "customerId": customer,
                "permittedUsers": 5,
                "startDate": start_next_month().isoformat(),
                "lines": [{"productId": product, "quantity": 5}],
                "implementationLeadName": "Lee Chen",
                "implementationLeadEmail": lead,
                "orderNumber": f"PO-{suffix}",
                "msaAcknowledged": True,
                "authorisedAcknowledged": True,
            }
        },
    )["createOrder"]
    assert order["errors"] == [], order
    submitted = partner(
        "mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { errors { field message } } }",
        {"i": {"id": order["order"]["id"]}},
    )["submitOrder"]
    assert submitted["errors"] == [], submitted

    page.goto(mailed_link(system, lead, "/rfi"))
    assert page.get_by_role("heading", level=1).inner_text() == "Request for Information"
    # First with a mistake: the page says which field, and keeps what was typed.
    page.get_by_label("Name", exact=True).fill("Sam Ortiz")
    page.get_by_label("E-mail address").fill("sam@litware.example")
    page.get_by_label("Mail domains").fill(f"litware-{suffix}.example")
    page.get_by_label("Number of users").fill("0")
    page.get_by_label("Current mail platform").select_option("MICROSOFT_365")
    page.get_by_role("button", name="Send the answers").click()
    alert = page.get_by_role("alert")
    assert "between 1 and" in alert.inner_text()
    assert page.get_by_label("Number of users").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Name", exact=True).input_value() == "Sam Ortiz"
    # Then right.
    page.get_by_label("Number of users").fill("5")
    page.get_by_label("Existing mail or an archive must be migrated").check()
    page.get_by_label("Migrate from").fill("PST files")
    page.get_by_role("button", name="Send the answers").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you: the answers are in"

    rfi = partner(
        "query($id: ID!) { order(id: $id) { rfi { completedAt answers { userCount domains } } } }",
        {"id": order["order"]["id"]},
    )["order"]["rfi"]
    assert rfi["completedAt"] and rfi["answers"] == {
        "userCount": 5,
        "domains": [f"litware-{suffix}.example"],
    }
    assert offline.elsewhere == []
