"""Rendering Prism's own HTML pages: one Jinja environment (autoescaped), one layout, and the
headers every page is sent with."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from prism_domain.errors import ErrorCode, FieldError

TEMPLATE_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
STATIC_PATH = "/static/pages"
PRODUCT_NAME = "Prism"

# A page holds a single-use token (in its address and its form) and, after a contact signs
# in, an access token: never cached, never sent on as a Referer, never framed, no script.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
}

# What a refused link is called on its page; the sentence under it is the service's message.
LINK_TITLES = {
    ErrorCode.NOT_FOUND: "This link is not valid",
    ErrorCode.REPLACED: "This link was replaced by a newer one",
    ErrorCode.ALREADY_USED: "This link was used already",
    ErrorCode.EXPIRED: "This link has expired",
    ErrorCode.NOT_VERIFIED: "Verify your e-mail address first",
}
LINK_STATUS = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.REPLACED: 410,
    ErrorCode.ALREADY_USED: 410,
    ErrorCode.EXPIRED: 410,
    ErrorCode.NOT_VERIFIED: 409,
}


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class PageRenderer:
    """Renders a page with what every page's layout needs (the product, GraphiQL's address)."""

    def __init__(self, *, graphql_url: str, graphiql_url: str | None) -> None:
        self.graphql_url = graphql_url
        self.graphiql_url = graphiql_url

    def page(self, template: str, *, title: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = (
            environment()
            .get_template(template)
            .render(
                title=title,
                product_name=PRODUCT_NAME,
                static_url=STATIC_PATH,
                graphql_url=self.graphql_url,
                graphiql_url=self.graphiql_url,
                **values,
            )
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def outcome(
        self,
        title: str,
        *lines: str,
        done: bool,
        status: int = 200,
        next_steps: tuple[str, ...] = (),
        **values: Any,
    ) -> HTMLResponse:
        return self.page(
            "outcome.html",
            title=title,
            status=status,
            lines=lines,
            done=done,
            next_steps=next_steps,
            token=values.pop("token", None),
            token_expires=values.pop("token_expires", None),
            **values,
        )

    def refused_link(self, error: FieldError, *next_steps: str) -> HTMLResponse:
        """A link the service refused: why, in its own words, and what to do instead."""
        return self.outcome(
            LINK_TITLES.get(error.code, "This link cannot be used"),
            error.message,
            done=False,
            status=LINK_STATUS.get(error.code, 400),
            next_steps=next_steps,
        )

    def missing_token(self) -> HTMLResponse:
        return self.outcome(
            "This link is incomplete",
            "The address has no token: open the link from the e-mail again, or copy the whole "
            "address into the browser.",
            done=False,
            status=400,
        )
