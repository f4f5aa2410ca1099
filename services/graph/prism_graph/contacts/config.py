"""What the contact use cases need from the deployment (settings), built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prism_domain.contacts import DEFAULT_CUSTOMER_CONTACT_LIMIT
from prism_graph.identity.throttle import LoginThrottle, make_backend
from prism_graph.mail.outbox import MailSignal
from prism_platform.links import Links

# Sign-in link requests are counted apart from staff sign-ins, so that contacts asking for
# links never use up the staff's budget (and the other way round).
THROTTLE_NAMESPACE = "prism:contact-links"


@dataclass(frozen=True)
class ContactsConfig:
    customer_contact_limit: int = DEFAULT_CUSTOMER_CONTACT_LIMIT  # R1
    verification_ttl: timedelta = timedelta(hours=72)  # R4
    sign_in_ttl: timedelta = timedelta(minutes=15)  # T3 magic links
    access_token_ttl: timedelta = timedelta(minutes=60)
    links: Links = field(
        default_factory=Links
    )  # PUBLIC_URL, PORTAL_URL: every link the contacts' mails carry
    wake: MailSignal | None = None  # an in-process mail sender to wake on commit
    # N2: sign-in link requests per address and per client (None: the staff sign-in throttle)
    throttle: LoginThrottle | None = None

    def verification_url(self, token: str) -> str:
        return self.links.contact_verification(token)

    def sign_in_url(self, token: str) -> str:
        return self.links.contact_sign_in(token)

    def usage_report_url(self) -> str:
        return self.links.usage_reports()


def build_contacts_config(settings: Any, mail_signal: MailSignal | None = None) -> ContactsConfig:
    """From `GraphSettings` (CUSTOMER_CONTACT_LIMIT, CONTACT_*_TTL_*, ACCESS_TOKEN_TTL_MINUTES,
    LOGIN_ATTEMPTS_PER_*, REDIS_URL, PUBLIC_URL/PORTAL_URL)."""
    return ContactsConfig(
        customer_contact_limit=settings.customer_contact_limit,
        verification_ttl=timedelta(hours=settings.contact_verification_ttl_hours),
        sign_in_ttl=timedelta(minutes=settings.contact_sign_in_ttl_minutes),
        access_token_ttl=timedelta(minutes=settings.access_token_ttl_minutes),
        links=settings.links,
        wake=mail_signal,
        throttle=LoginThrottle(
            make_backend(settings.redis_url),
            per_account=settings.login_attempts_per_account,
            per_address=settings.login_attempts_per_address,
            namespace=THROTTLE_NAMESPACE,
        ),
    )


def contacts_config(context: Any) -> ContactsConfig:
    """The request's contacts configuration (`Context.contacts`), defaults when none was given."""
    return context.contacts or ContactsConfig()
