"""GraphiQL, served from a vendored copy (`static/`, see its README): no asset comes from the
internet, so the IDE works on a machine without it.

The page opens on a Prism example (sign in, then a query with the access token) and its
headers editor shows where the token goes (`Authorization: Bearer <token>`).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).with_name("static")
ASSETS_PATH = "/graphiql/assets"
ASSETS = (
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "prism-graphiql.js",
)

# The headers editor starts with an empty Authorization header (sent as none at all): paste
# "Bearer <accessToken>" into it after signing in.
DEFAULT_HEADERS = json.dumps({"Authorization": ""}, indent=2)

EXAMPLE = """# Prism's GraphQL API
#
# 1. Run SignIn (the play button offers
#    each operation); copy its accessToken.
# 2. In the Headers tab below, set
#    "Authorization": "Bearer <accessToken>"
# 3. Run Customers, as that user.
#
# API clients: POST /oauth/token instead
# (client credentials), same header.

mutation SignIn {{
  signIn(input: {{email: "{email}", password: "{password}"}}) {{
    accessToken
    expiresAt
    errors {{ code message }}
  }}
}}

query Customers {{
  me {{ label permissions }}
  customers(first: 10) {{
    totalCount
    edges {{ node {{ id name status owner {{ name }} }} }}
  }}
}}
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Prism GraphiQL</title>
<link rel="stylesheet" href="{assets}/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql" role="main">Loading GraphiQL…
<noscript>GraphiQL needs JavaScript. Without it, POST queries to this address as JSON
({{"query": "..."}}), with the header Authorization: Bearer &lt;token&gt;.</noscript></div>
<script type="application/json" id="prism-graphiql-config">{config}</script>
<script src="{assets}/react.production.min.js"></script>
<script src="{assets}/react-dom.production.min.js"></script>
<script src="{assets}/graphiql.min.js"></script>
<script src="{assets}/prism-graphiql.js"></script>
</body>
</html>
"""

# Scripts and styles from Prism only; GraphiQL sets inline styles and embeds fonts as data.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def example_query(*, demo: bool) -> str:
    """The page's default query: the demo admin's login in development, blanks elsewhere."""
    if demo:
        from prism_graph.demo import DEMO_PASSWORD

        return EXAMPLE.format(email="admin@contoso-partners.example", password=DEMO_PASSWORD)
    return EXAMPLE.format(email="you@example.com", password="your password")  # noqa: S106


def graphiql_page(*, demo: bool) -> HTMLResponse:
    config = json.dumps({"query": example_query(demo=demo), "headers": DEFAULT_HEADERS})
    # No "</" may close the JSON block early.
    html = PAGE.format(assets=ASSETS_PATH, config=config.replace("</", "<\\/"))
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def assets_mount() -> Mount:
    return Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="graphiql-assets")
