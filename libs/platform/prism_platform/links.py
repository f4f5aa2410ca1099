"""Every address Prism puts in a mail, built from one place.

Two bases, both read by every process from the same settings (`CommonSettings`):

- PUBLIC_URL, where users reach Prism itself. Unset, it is `http://HOST:PORT`, the address
  the API listens on (a wildcard HOST such as 0.0.0.0 becomes 127.0.0.1). The pages Prism
  serves for the token flows (verify an e-mail address, a contact's sign-in, the Request for
  Information, accepting an invitation) are under it.
- PORTAL_URL, the front end's base for the screens Prism does not serve itself (a sync run's
  status, the usage reports). Unset, it is PUBLIC_URL, where Prism answers those paths with a
  short page saying what the screen is and how to get the same through the API.

The paths are constants here so that the routes that serve them and the links that point at
them cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - names, not a bind

# Pages Prism serves (under PUBLIC_URL); a token rides in the query string.
CONTACT_VERIFY_PATH = "/contacts/verify"
CONTACT_SIGN_IN_PATH = "/contacts/sign-in"
RFI_PATH = "/rfi"
ACCEPT_INVITATION_PATH = "/accept-invitation"
GRAPHQL_PATH = "/graphql"

# Screens of the portal front end (under PORTAL_URL).
INVOICE_RUN_PATH = "/psa-sync/invoice-runs/{run_id}"
PRODUCT_RUN_PATH = "/psa-sync/product-runs/{run_id}"
USAGE_REPORTS_PATH = "/usage-reports"


def default_public_url(host: str, port: int) -> str:
    """The one default rule: the address the API listens on, reachable from this machine."""
    shown = DEFAULT_HOST if host.strip() in WILDCARD_HOSTS else host.strip()
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 literal
    return f"http://{shown}:{port}"


DEFAULT_PUBLIC_URL = default_public_url(DEFAULT_HOST, DEFAULT_PORT)


class _LinkSettings(Protocol):
    host: str
    port: int
    public_url: str | None
    portal_url: str | None


@dataclass(frozen=True)
class Links:
    """The links of every mail: `Links.from_settings(settings)` in each composition root."""

    public_url: str = DEFAULT_PUBLIC_URL
    portal_url: str | None = None  # None: the public URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        portal = (self.portal_url or "").rstrip("/") or self.public_url
        object.__setattr__(self, "portal_url", portal)

    @classmethod
    def from_settings(cls, settings: _LinkSettings) -> Links:
        public = settings.public_url or default_public_url(settings.host, settings.port)
        return cls(public, settings.portal_url)

    @property
    def portal(self) -> str:
        assert self.portal_url is not None  # set by __post_init__
        return self.portal_url

    @property
    def has_portal(self) -> bool:
        """Whether a front end of its own serves the portal screens."""
        return self.portal != self.public_url

    def _public(self, path: str, token: str | None = None) -> str:
        query = f"?token={quote(token, safe='')}" if token is not None else ""
        return f"{self.public_url}{path}{query}"

    # Token flows, on Prism's own pages.
    def contact_verification(self, token: str) -> str:
        return self._public(CONTACT_VERIFY_PATH, token)

    def contact_sign_in(self, token: str) -> str:
        return self._public(CONTACT_SIGN_IN_PATH, token)

    def rfi(self, token: str) -> str:
        return self._public(RFI_PATH, token)

    def invitation(self, token: str) -> str:
        return self._public(ACCEPT_INVITATION_PATH, token)

    def graphql(self) -> str:
        return self._public(GRAPHQL_PATH)

    # Portal screens.
    def invoice_run(self, run_id: int) -> str:
        return self.portal + INVOICE_RUN_PATH.format(run_id=run_id)

    def product_run(self, run_id: int) -> str:
        return self.portal + PRODUCT_RUN_PATH.format(run_id=run_id)

    def usage_reports(self) -> str:
        return self.portal + USAGE_REPORTS_PATH
