"""The pages behind the links Prism mails, for people who have no portal front end.

Token flows (under PUBLIC_URL, `prism_platform.links`):

- verify an e-mail address   GET/POST /contacts/verify?token=...
- a contact signs in         GET/POST /contacts/sign-in?token=...
- the Request for Information GET/POST /rfi?token=...
- accept an invitation       GET/POST /accept-invitation?token=...

GET never uses a link up (mail scanners open links before people do): it shows a form, and
only its POST acts, through the same use cases as the GraphQL mutations (`verifyCustomerContact`,
`signInWithContactLink`, `submitRfi`, `acceptInvitation`), so a page and the API answer
alike. Each outcome is a page of its own: done, expired, replaced by a newer link, used
already, or the form again with each field's error.

Portal screens (`/psa-sync/invoice-runs/ID`, `/psa-sync/product-runs/ID`, `/usage-reports`)
are what the links point at when PORTAL_URL is not set: a short page saying what the screen
is and how to get the same through the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry import relay

from prism_domain.errors import FieldError
from prism_graph.contacts import customer_contacts
from prism_graph.contacts.config import ContactsConfig
from prism_graph.database import Database
from prism_graph.identity import users
from prism_graph.identity.service import IdentityConfig
from prism_graph.orders import rfi
from prism_graph.pages import rfi_form
from prism_graph.pages.render import STATIC_DIR, STATIC_PATH, PageRenderer
from prism_platform import links as paths
from prism_platform.links import Links
from prism_tables.orders import reference

MAX_FORM_BYTES = 64_000
DAY_AND_TIME = "%d %B %Y, %H:%M UTC"

Handler = Callable[[Request], Awaitable[Response]]

# What the portal screens' pages show to run instead (ID: the run's id in the API).
INVOICE_RUN_QUERY = """query {
  invoiceSyncRun(id: "ID") {
    status trigger startedAt finishedAt summary message
    customers { customerName outcome message }
  }
}"""
PRODUCT_RUN_QUERY = """query {
  productSyncRun(id: "ID") {
    status trigger startedAt finishedAt created updated failed message
  }
}"""
USAGE_QUERY = """mutation {
  recordUsage(input: {customerId: "...", productId: "...", day: "2026-01-31", quantity: "1"}) {
    usage { quantity }
    errors { field message }
  }
}"""


class Pages:
    def __init__(
        self,
        database: Database,
        identity: IdentityConfig,
        contacts: ContactsConfig,
        links: Links,
        *,
        graphiql: bool,
    ) -> None:
        self._database = database
        self._identity = identity
        self._contacts = contacts
        self._links = links
        self._render = PageRenderer(
            graphql_url=links.graphql(), graphiql_url=links.graphql() if graphiql else None
        )

    def routes(self) -> list[BaseRoute]:
        both = ["GET", "POST"]
        return [
            Route(paths.CONTACT_VERIFY_PATH, self._token_page(self._verify), methods=both),
            Route(paths.CONTACT_SIGN_IN_PATH, self._token_page(self._sign_in), methods=both),
            Route(paths.RFI_PATH, self._token_page(self._rfi), methods=both),
            Route(paths.ACCEPT_INVITATION_PATH, self._token_page(self._accept), methods=both),
            Route(paths.INVOICE_RUN_PATH.replace("{run_id}", "{run_id:int}"), self._invoice_run),
            Route(paths.PRODUCT_RUN_PATH.replace("{run_id}", "{run_id:int}"), self._product_run),
            Route(paths.USAGE_REPORTS_PATH, self._usage_reports),
            Mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="page-assets"),
        ]

    # -- the shared frame of a token page ---------------------------------------------------

    def _token_page(
        self, flow: Callable[[Request, str, dict[str, str] | None], Awaitable[Response]]
    ) -> Handler:
        async def handle(request: Request) -> Response:
            form: dict[str, str] | None = None
            if request.method == "POST":
                length = request.headers.get("content-length", "0")
                if not length.isdigit() or int(length) > MAX_FORM_BYTES:
                    return self._render.outcome(
                        "The form is too large", "Send at most 64 kB.", done=False, status=413
                    )
                posted = await request.form()
                form = {k: v for k, v in posted.items() if isinstance(v, str)}
            token = ((form or {}).get("token") or request.query_params.get("token") or "").strip()
            if not token:
                return self._render.missing_token()
            return await flow(request, token, form)

        return handle

    def _action(self, request: Request) -> str:
        """The form posts to the page's own path; the token travels in the form."""
        return request.url.path

    # -- verify an e-mail address -----------------------------------------------------------

    async def _verify(self, request: Request, token: str, form: dict[str, str] | None) -> Response:
        if form is None:
            return self._render.page(
                "confirm.html",
                title="Verify your e-mail address",
                lines=["Confirm that this e-mail address is yours."],
                button="Verify my e-mail address",
                action=self._action(request),
                token=token,
            )
        result = await customer_contacts.verify(self._database, token)
        if isinstance(result, list):
            return self._render.refused_link(
                result[0], "If you need a new link, ask the partner who manages your account."
            )
        return self._render.outcome(
            "Your e-mail address is verified",
            f"Thank you: {result.email} is verified. You can close this page.",
            done=True,
        )

    # -- a contact signs in -----------------------------------------------------------------

    async def _sign_in(self, request: Request, token: str, form: dict[str, str] | None) -> Response:
        if form is None:
            return self._render.page(
                "confirm.html",
                title="Sign in",
                lines=["Sign in with the link you asked for. It works once."],
                button="Sign in",
                action=self._action(request),
                token=token,
            )
        result = await customer_contacts.sign_in(self._database, self._contacts, token)
        if isinstance(result, list):
            return self._render.refused_link(
                result[0], "Ask for a new sign-in link with the requestContactSignIn mutation."
            )
        return self._render.outcome(
            "You are signed in",
            f"Signed in as {result.contact.email}.",
            done=True,
            token=result.token,
            token_expires=result.expires_at.strftime(DAY_AND_TIME),
        )

    # -- the Request for Information --------------------------------------------------------

    async def _rfi(self, request: Request, token: str, form: dict[str, str] | None) -> Response:
        if form is None:
            view = await rfi.rfi_by_token(self._database, token)
            if isinstance(view, list):
                return self._render.refused_link(view[0])
            return self._rfi_form(request, token, view, {}, [])
        raw, shape_errors = rfi_form.answers_of(form)
        result = await self._database.run(rfi.submit_rfi_by_token, token, raw)
        if isinstance(result, list):
            link_errors = [e for e in result if e.field == "token"]
            if link_errors:
                return self._render.refused_link(link_errors[0])
            view = await rfi.rfi_by_token(self._database, token)
            if isinstance(view, list):
                return self._render.refused_link(view[0])
            unreadable = {rfi_form.form_field(e) for e in shape_errors}
            errors = shape_errors + [e for e in result if rfi_form.form_field(e) not in unreadable]
            return self._rfi_form(request, token, view, rfi_form.values_of(form), errors)
        return self._render.outcome(
            "Thank you: the answers are in",
            f"{result.msp_name} has the Request for Information for {result.company_name} "
            f"(order {reference(result.order_id)}). The link is now spent; ask "
            f"{result.msp_name} for any change.",
            done=True,
        )

    def _rfi_form(
        self,
        request: Request,
        token: str,
        view: rfi.RfiView,
        values: dict[str, str],
        errors: list[FieldError],
    ) -> Response:
        shown = [{"field": rfi_form.form_field(e), "message": e.message} for e in errors]
        by_field: dict[str, str] = {}
        for error in errors:
            name = rfi_form.form_field(error)
            if name is not None:
                by_field.setdefault(name, error.message)
        return self._render.page(
            "rfi.html",
            title="Request for Information",
            status=400 if errors else 200,
            form=view,
            order_reference=reference(view.order_id),
            expires=view.expires_at.strftime(DAY_AND_TIME),
            sections=rfi_form.SECTIONS,
            values=values,
            errors=shown,
            field_errors=by_field,
            action=self._action(request),
            token=token,
        )

    # -- accept an invitation ---------------------------------------------------------------

    async def _accept(self, request: Request, token: str, form: dict[str, str] | None) -> Response:
        from prism_domain.identity import PASSWORD_MIN_LENGTH

        def page(errors: list[dict[str, Any]], status: int = 200) -> Response:
            return self._render.page(
                "accept_invitation.html",
                title="Set your password",
                status=status,
                errors=errors,
                field_errors={e["field"]: e["message"] for e in errors if e["field"]},
                min_length=PASSWORD_MIN_LENGTH,
                action=self._action(request),
                token=token,
            )

        if form is None:
            return page([])
        password = form.get("password", "")
        if password != form.get("confirmation", ""):
            return page(
                [{"field": "confirmation", "message": "The two passwords differ."}], status=400
            )
        result = await users.accept_invitation(
            self._database, self._identity, token=token, password=password
        )
        if isinstance(result, list):
            link_errors = [e for e in result if e.field == "token"]
            if link_errors:
                return self._render.refused_link(
                    link_errors[0], "Ask an administrator of your organisation to invite you again."
                )
            return page([{"field": "password", "message": e.message} for e in result], status=400)
        _, user = result
        return self._render.outcome(
            "Your password is set",
            f"Your account {user.email} is ready. Sign in with it and your new password.",
            done=True,
            next_steps=(
                "Through the API: the signIn mutation takes your e-mail address and password "
                "and answers with an access token.",
            ),
        )

    # -- portal screens, when no portal serves them -----------------------------------------

    async def _invoice_run(self, request: Request) -> Response:
        run_id = int(request.path_params["run_id"])
        return self._portal_screen(
            f"Invoice sync run {run_id}",
            "The status of one run of the invoice sync into the PSA: what it wrote, for which "
            "customers, and what failed.",
            INVOICE_RUN_QUERY.replace("ID", str(relay.GlobalID("InvoiceSyncRun", str(run_id)))),
        )

    async def _product_run(self, request: Request) -> Response:
        run_id = int(request.path_params["run_id"])
        return self._portal_screen(
            f"Product sync run {run_id}",
            "The status of one run of the product sync into the PSA: which services it "
            "created or updated (price changes included), and what failed.",
            PRODUCT_RUN_QUERY.replace("ID", str(relay.GlobalID("ProductSyncRun", str(run_id)))),
        )

    async def _usage_reports(self, request: Request) -> Response:
        return self._portal_screen(
            "Usage reports",
            "Where a customer's usage-reporting contacts submit the usage reports their "
            "partner asked for (e.g. SPLA).",
            USAGE_QUERY,
        )

    def _portal_screen(self, title: str, what: str, query: str) -> Response:
        return self._render.page("portal_screen.html", title=title, what=what, query=query)
