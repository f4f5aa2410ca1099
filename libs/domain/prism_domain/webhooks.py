"""Partner webhooks (SPEC N5): the event types a partner may subscribe to, the rules for an
endpoint, how a delivery is signed and how a receiver checks it, and the back-off between
attempts. Pure: the API validates with it, the syncer signs with it, the docs quote it."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.events import DomainEvent, register


#: The public names of what a partner can subscribe to: the domain events' own type names.
class WebhookEventType(StrEnum):
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_SYNC_RUN_FINISHED = "invoice_sync.run_finished"
    INVOICE_SYNC_RUN_FAILED = "invoice_sync.run_failed"
    INVOICE_SYNC_AWAITING_APPROVAL = "invoice_sync.awaiting_approval"
    PRODUCT_PRICE_CHANGED = "product.price_changed"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # an attempt is due, now or after a back-off
    SUCCEEDED = "SUCCEEDED"  # the receiver answered 2xx
    FAILED = "FAILED"  # every attempt failed; a re-send tries once more


MAX_ENDPOINTS_PER_PARTNER = 10
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_HEADER = "Prism-Signature"
EVENT_HEADER = "Prism-Event"
DELIVERY_HEADER = "Prism-Delivery"
#: How far a receiver should accept a signature's timestamp from its own clock.
SIGNATURE_TOLERANCE = timedelta(minutes=5)
#: A failed attempt is tried again after 30 s, 1 min, 2 min, ... up to 1 hour.
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 8


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def retry_delay(
    attempts: int, base: timedelta = RETRY_BASE, cap: timedelta = RETRY_MAX
) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1: the first): doubling, capped."""
    wait: timedelta = base * 2 ** max(0, attempts - 1)
    return min(cap, wait)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Prism-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: datetime,
    tolerance: timedelta = SIGNATURE_TOLERANCE,
) -> bool:
    """What a receiver does (docs/api.md, Webhooks): recompute, compare in constant time,
    and refuse a timestamp further than `tolerance` from its clock (a replay)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _internal_address(host: str) -> bool:
    """An IP literal of a private, loopback, link-local or otherwise non-public network:
    Prism's own network is no partner's endpoint."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return not address.is_global


def clean_url(
    value: str | None, *, allow_http_loopback: bool, field: str = "url"
) -> str | FieldError:
    """An endpoint's URL: absolute https (http only to loopback, and only where the
    deployment allows it, for development and tests), no credentials, no fragment."""
    text = (value or "").strip()
    if not text:
        return FieldError(field, ErrorCode.REQUIRED, "The endpoint's URL is required.")
    if len(text) > MAX_URL_LENGTH:
        return FieldError(
            field, ErrorCode.TOO_LONG, f"The URL must be at most {MAX_URL_LENGTH} characters."
        )
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return FieldError(field, ErrorCode.INVALID, "This is not a URL.")
    if parts.scheme not in ("https", "http") or not host:
        return FieldError(
            field,
            ErrorCode.INVALID,
            "Use an absolute https:// URL, e.g. https://example.com/hooks.",
        )
    if parts.username or parts.password or parts.fragment or any(ord(c) <= 32 for c in text):
        return FieldError(
            field,
            ErrorCode.INVALID,
            "The URL may not carry a user name, password, fragment (#) or spaces.",
        )
    loopback_allowed = allow_http_loopback and _loopback(host)
    if parts.scheme == "http" and not loopback_allowed:
        return FieldError(field, ErrorCode.INVALID, "Webhooks are sent over https:// only.")
    if _internal_address(host) and not loopback_allowed:
        return FieldError(
            field,
            ErrorCode.INVALID,
            "The URL must reach a public address, not a private, loopback or link-local one.",
        )
    return text


def clean_description(value: str | None, field: str = "description") -> str | FieldError:
    text = (value or "").strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        return FieldError(
            field,
            ErrorCode.TOO_LONG,
            f"The description must be at most {MAX_DESCRIPTION_LENGTH} characters.",
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        return FieldError(field, ErrorCode.INVALID, "The description contains control characters.")
    return text


def clean_event_types(
    values: list[str] | None, field: str = "eventTypes"
) -> list[WebhookEventType] | FieldError:
    """At least one known type, each once, in the enum's order."""
    chosen: set[WebhookEventType] = set()
    for value in values or []:
        try:
            chosen.add(WebhookEventType(value))
        except ValueError:
            return FieldError(field, ErrorCode.INVALID, f"Unknown event type {value!r}.")
    if not chosen:
        return FieldError(field, ErrorCode.REQUIRED, "Choose at least one event type.")
    return [t for t in WebhookEventType if t in chosen]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A checked endpoint: what the API stores."""

    url: str
    event_types: tuple[WebhookEventType, ...]
    description: str


def endpoint_of(
    *,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    allow_http_loopback: bool,
) -> Endpoint | list[FieldError]:
    errors: list[FieldError] = []
    clean = clean_url(url, allow_http_loopback=allow_http_loopback)
    types = clean_event_types(event_types)
    words = clean_description(description)
    for result in (clean, types, words):
        if isinstance(result, FieldError):
            errors.append(result)
    if errors:
        return errors
    assert isinstance(clean, str) and isinstance(words, str) and isinstance(types, list)
    return Endpoint(clean, tuple(types), words)


@register
@dataclass(frozen=True, kw_only=True)
class WebhookResendRequested(DomainEvent):
    """A partner asked for one more attempt of a delivery (the worker sends it)."""

    type = "webhook_delivery.resend_requested"
    version = 1
    aggregate_type = "webhook_delivery"

    partner_id: int
    delivery_id: int


#: Names the due-deliveries sweep's slots, so every scheduler derives the same event id.
DELIVERIES_DUE_NAMESPACE = uuid.UUID("1d6b7f5e-2c1a-4c5e-9f0b-6a7c3e2d4b81")


@register
@dataclass(frozen=True, kw_only=True)
class WebhookDeliveriesDue(DomainEvent):
    """Time to send the webhook deliveries whose next attempt is due (retries after a
    back-off, and deliveries a worker stopped before sending). One per time slot, like the
    invoice sync's safety check."""

    type = "webhook_delivery.attempts_due"
    version = 1
    aggregate_type = "webhook_delivery"

    slot_start: str  # ISO 8601, UTC

    @classmethod
    def for_slot(cls, start: datetime) -> WebhookDeliveriesDue:
        stamp = start.isoformat()
        return cls(
            aggregate_id="webhook-sweep",
            event_id=uuid.uuid5(DELIVERIES_DUE_NAMESPACE, f"{cls.type}/{stamp}"),
            occurred_at=start,
            slot_start=stamp,
        )
