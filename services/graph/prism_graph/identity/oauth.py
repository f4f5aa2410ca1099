"""`POST /oauth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4, §5).

Form-encoded `grant_type=client_credentials` with `client_id`/`client_secret` in the body or
in HTTP Basic; answers `access_token`, `token_type`, `expires_in`, and never a refresh token.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse

from prism_graph.database import Database
from prism_graph.identity import api_clients
from prism_graph.identity.service import IdentityConfig
from prism_platform.db import utcnow

MAX_FORM_BYTES = 4096
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(error: str, description: str, status: int = 400, basic: bool = False) -> JSONResponse:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="prism"' if basic else 'Bearer realm="prism"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    user, sep, password = raw.partition(":")
    if not sep:
        return ("", "")
    # RFC 6749 §2.3.1: client id and secret are form-encoded before Basic encoding.
    return unquote_plus(user), unquote_plus(password)


def token_endpoint(database: Database, config: IdentityConfig) -> Any:
    async def token(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _error("invalid_request", "Send the request form-encoded.")
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return _error("invalid_request", "The request is too large.")
        form = await request.form()
        basic = _basic(request.headers.get("authorization"))
        if form.get("grant_type") != "client_credentials":
            return _error("unsupported_grant_type", "Only client_credentials is supported.")
        if basic is not None and ("client_id" in form or "client_secret" in form):
            return _error("invalid_request", "Authenticate with Basic or the body, not both.")
        client_id, secret = basic or (
            str(form.get("client_id", "")),
            str(form.get("client_secret", "")),
        )
        if not client_id or not secret:
            return _error("invalid_client", "Client authentication failed.", 401, basic is not None)
        issued = await api_clients.token_for_client(
            database, config, client_id=client_id, client_secret=secret
        )
        if issued is None:
            return _error("invalid_client", "Client authentication failed.", 401, basic is not None)
        return JSONResponse(
            {
                "access_token": issued.token,
                "token_type": "Bearer",
                "expires_in": int((issued.expires_at - utcnow()).total_seconds()),
            },
            headers=_NO_STORE,
        )

    return token
