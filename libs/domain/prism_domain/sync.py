"""PSA sync settings and events (SPEC S1-S3, S7), in PSA-neutral terms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.events import DomainEvent, register
from prism_domain.text import clean_email

#: The seed's service name: "PC_" followed by the product SKU (S3).
SERVICE_NAME_PREFIX = "PC_"
MAX_NOTIFICATION_ADDRESSES = 20


def service_name(sku: str) -> str:
    return f"{SERVICE_NAME_PREFIX}{sku}"


class PsaKind(StrEnum):
    """The PSAs Prism syncs to. A partner may connect to several; each program syncs to one."""

    AUTOTASK = "AUTOTASK"
    CONNECTWISE = "CONNECTWISE"

    @property
    def label(self) -> str:
        return PSA_LABELS[self]


PSA_LABELS = {PsaKind.AUTOTASK: "Autotask", PsaKind.CONNECTWISE: "ConnectWise"}


class ProductSyncMode(StrEnum):
    """S2: every product of the program, or only those on invoices of synced customers."""

    ALL = "ALL"
    IN_USE = "IN_USE"


class SyncTrigger(StrEnum):
    MANUAL = "MANUAL"
    PRICE_CHANGED = "PRICE_CHANGED"
    INVOICE_ISSUED = "INVOICE_ISSUED"  # S5: `invoice.issued`
    SAVE_AND_SYNC = "SAVE_AND_SYNC"  # S4: "save and sync now" on a customer mapping
    SAFETY_CHECK = "SAFETY_CHECK"  # S5: the periodic check for issued invoices not yet synced
    REVERT = "REVERT"  # S10: puts what an earlier invoice run wrote back (`reverts_run_id`)


class ConnectionStatus(StrEnum):
    UNTESTED = "UNTESTED"
    OK = "OK"
    FAILING = "FAILING"


class ConnectionProblem(StrEnum):
    """Which part of the credentials the PSA refused (S1 "test")."""

    UNKNOWN_USER = "UNKNOWN_USER"  # no zone for this username
    WRONG_SECRET = "WRONG_SECRET"  # noqa: S105 - unauthorised, with no reason given
    USER_LOCKED = "USER_LOCKED"  # the PSA said the API user is locked
    USER_INACTIVE = "USER_INACTIVE"  # the PSA said the API user is not active
    INVALID_INTEGRATION_CODE = "INVALID_INTEGRATION_CODE"
    PERMISSION_DENIED = "PERMISSION_DENIED"  # security level
    UNREACHABLE = "UNREACHABLE"
    UNEXPECTED = "UNEXPECTED"


PROBLEM_MESSAGES: dict[ConnectionProblem, str] = {
    ConnectionProblem.UNKNOWN_USER: (
        "Autotask knows no API user with this username (no zone found): check the API Username."
    ),
    ConnectionProblem.WRONG_SECRET: (
        "Autotask refused the username and secret: check the Password (Secret), and that the "
        "API user is not locked (Admin > Resources, Edit, uncheck Locked)."
    ),
    ConnectionProblem.USER_LOCKED: (
        "Autotask says the API user is locked, so it refuses every request whatever the "
        "secret. In Autotask go to Admin > Resources (Users), edit the API user, uncheck "
        "Locked, then Save & Close, and test the connection again. A lock usually follows "
        "repeated sign-ins with a wrong secret: if the secret was changed, enter the new one "
        "here before testing."
    ),
    ConnectionProblem.USER_INACTIVE: (
        "Autotask says the API user is not active, so it refuses every request. In Autotask "
        "go to Admin > Resources (Users), edit the API user, check Active, then Save & Close, "
        "and test the connection again."
    ),
    ConnectionProblem.INVALID_INTEGRATION_CODE: (
        "Autotask refused the integration code (API tracking identifier): copy it again from "
        "the API user's Tracking Identifier."
    ),
    ConnectionProblem.PERMISSION_DENIED: (
        "The API user's security level does not allow this: give it the API User (API-only) "
        "security level described in the setup guide."
    ),
    ConnectionProblem.UNREACHABLE: "Autotask could not be reached; try again shortly.",
    ConnectionProblem.UNEXPECTED: "Autotask answered with an unexpected error; try again.",
}


#: The same problems as ConnectWise PSA reports them (an API member's keys, not a user).
CONNECTWISE_PROBLEM_MESSAGES: dict[ConnectionProblem, str] = {
    ConnectionProblem.UNKNOWN_USER: (
        "ConnectWise knows no company with this company id at this site: check the Company "
        "field you sign in with, and the site (for example api-na.myconnectwise.net)."
    ),
    ConnectionProblem.WRONG_SECRET: (
        "ConnectWise refused the public and private key: check both keys of the API member "
        "(System > Members > API Members, API Keys), or create a new pair."
    ),
    ConnectionProblem.USER_LOCKED: (
        "ConnectWise refused the API member: check that it is not inactive (System > "
        "Members > API Members) and test the connection again."
    ),
    ConnectionProblem.USER_INACTIVE: (
        "ConnectWise says the API member is inactive: make it active again (System > "
        "Members > API Members) and test the connection again."
    ),
    ConnectionProblem.INVALID_INTEGRATION_CODE: (
        "ConnectWise refused this server's client id: the operator must set "
        "CONNECTWISE_CLIENT_ID to the clientId registered at developer.connectwise.com."
    ),
    ConnectionProblem.PERMISSION_DENIED: (
        "The API member's security role does not allow this: give it the security role "
        "described in the setup guide (Finance: agreements; Procurement: product catalog)."
    ),
    ConnectionProblem.UNREACHABLE: "ConnectWise could not be reached; try again shortly.",
    ConnectionProblem.UNEXPECTED: "ConnectWise answered with an unexpected error; try again.",
}


def problem_message(psa: PsaKind | str, problem: ConnectionProblem) -> str:
    """What the PSA's refusal means and what to do, in the PSA's own words."""
    if PsaKind(psa) is PsaKind.CONNECTWISE:
        return CONNECTWISE_PROBLEM_MESSAGES[problem]
    return PROBLEM_MESSAGES[problem]


@dataclass(frozen=True, slots=True)
class Credentials:
    """S1: the partner's Autotask API user, cleaned."""

    username: str
    secret: str
    integration_code: str

    @classmethod
    def parse(
        cls, *, username: str | None, secret: str | None, integration_code: str | None
    ) -> Credentials:
        errors: list[FieldError] = []
        values: dict[str, str] = {}
        for name, value, limit in (
            ("username", username, 200),
            ("secret", secret, 200),
            ("integrationCode", integration_code, 100),
        ):
            text = (value or "").strip()
            if not text:
                errors.append(FieldError(name, ErrorCode.REQUIRED, "Required."))
            elif len(text) > limit:
                errors.append(FieldError(name, ErrorCode.TOO_LONG, f"At most {limit} characters."))
            values[name] = text
        if errors:
            raise DomainValidationError(errors)
        return cls(values["username"], values["secret"], values["integrationCode"])

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r})"


@dataclass(frozen=True, slots=True)
class ConnectWiseCredentials:
    """S13: the partner's ConnectWise API member, cleaned: the site its API lives on, the
    company id it signs in with and the member's key pair. (The clientId belongs to the
    integration, so to the server's configuration, not to the partner.)"""

    site: str
    company_id: str
    public_key: str
    private_key: str

    @classmethod
    def parse(
        cls,
        *,
        site: str | None,
        company_id: str | None,
        public_key: str | None,
        private_key: str | None,
        allow_http_loopback: bool = False,
    ) -> ConnectWiseCredentials:
        errors: list[FieldError] = []
        values: dict[str, str] = {}
        for name, value, limit in (
            ("site", site, 200),
            ("companyId", company_id, 50),
            ("publicKey", public_key, 100),
            ("privateKey", private_key, 100),
        ):
            text = (value or "").strip()
            if not text:
                errors.append(FieldError(name, ErrorCode.REQUIRED, "Required."))
            elif len(text) > limit:
                errors.append(FieldError(name, ErrorCode.TOO_LONG, f"At most {limit} characters."))
            values[name] = text
        if values["site"] and len(values["site"]) <= 200:
            site_or_error = _connectwise_site(values["site"], allow_http_loopback)
            if isinstance(site_or_error, FieldError):
                errors.append(site_or_error)
            else:
                values["site"] = site_or_error
        if errors:
            raise DomainValidationError(errors)
        return cls(values["site"], values["companyId"], values["publicKey"], values["privateKey"])

    def __repr__(self) -> str:
        return f"ConnectWiseCredentials(site={self.site!r}, company_id={self.company_id!r})"


def _connectwise_site(text: str, allow_http_loopback: bool) -> str | FieldError:
    """A host name (`api-na.myconnectwise.net`) or an https URL of one, as the host; http
    only to a loopback address when the server allows it (a local simulator)."""
    from urllib.parse import urlsplit

    raw = text if "://" in text else f"https://{text}"
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    loopback = host in {"127.0.0.1", "localhost", "::1"}
    bad = FieldError(
        "site",
        ErrorCode.INVALID,
        "Give the ConnectWise API host, for example api-na.myconnectwise.net.",
    )
    if not host or parts.path.strip("/") or parts.query or parts.fragment:
        return bad
    if parts.scheme == "http" and loopback and allow_http_loopback:
        return f"http://{parts.netloc.lower()}"
    if parts.scheme != "https":
        return FieldError("site", ErrorCode.INVALID, "ConnectWise is reached over https only.")
    return parts.netloc.lower()


def clean_notification_emails(values: list[str] | None) -> list[str]:
    """S2: optional addresses for sync errors and price-change warnings; each validated."""
    errors: list[FieldError] = []
    cleaned: list[str] = []
    for i, value in enumerate(values or []):
        email = clean_email(value, field=f"notificationEmails.{i}", errors=errors)
        if email and email.casefold() not in {e.casefold() for e in cleaned}:
            cleaned.append(email)
    if len(cleaned) > MAX_NOTIFICATION_ADDRESSES:
        errors.append(
            FieldError(
                "notificationEmails",
                ErrorCode.TOO_LONG,
                f"At most {MAX_NOTIFICATION_ADDRESSES} addresses.",
            )
        )
    if errors:
        raise DomainValidationError(errors)
    return cleaned


@register
@dataclass(frozen=True, kw_only=True)
class ProductSyncRequested(DomainEvent):
    """S3: a partner asked for the product sync of one program (or a price change did)."""

    type = "product_sync.requested"
    version = 1
    aggregate_type = "product_sync"

    partner_id: int
    program_id: int
    trigger: str = SyncTrigger.MANUAL.value


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncRequested(DomainEvent):
    """S4, S5: sync a program's invoices now: one invoice (`invoice_id`), or the latest issued
    invoice of one customer (`customer_id`, "save and sync now"), or, with neither, the
    latest issued invoice of the program."""

    type = "invoice_sync.requested"
    version = 1
    aggregate_type = "invoice_sync"

    partner_id: int
    program_id: int
    customer_id: int | None = None
    invoice_id: int | None = None
    trigger: str = SyncTrigger.MANUAL.value


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncRevertRequested(DomainEvent):
    """S10: undo an invoice sync run: write the compensating adjustments that put every
    contract service it changed back to the units it held before it (a REVERT run)."""

    type = "invoice_sync.revert_requested"
    version = 1
    aggregate_type = "invoice_sync"

    partner_id: int
    program_id: int
    run_id: int  # the run to revert


#: Names the safety check's slots, so every scheduler derives the same event id for a slot.
SAFETY_CHECK_NAMESPACE = uuid.UUID("6f1c2f4e-7a43-4bd5-9c0e-5a3d2b9e8f10")


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncSafetyCheckDue(DomainEvent):
    """S5, S10: time for the periodic safety check (resume runs a crash left unfinished, sync
    issued invoices whose `invoice.issued` never led to a run).

    One per time slot: the event id is derived from the slot's start, so any number of
    schedulers stage it once (the outbox's event id is unique) and the syncer's inbox handles
    it once.
    """

    type = "invoice_sync.safety_check_due"
    version = 1
    aggregate_type = "invoice_sync"

    slot_start: str  # ISO 8601, UTC

    @classmethod
    def for_slot(cls, start: datetime) -> InvoiceSyncSafetyCheckDue:
        stamp = start.isoformat()
        return cls(
            aggregate_id="safety-check",
            event_id=uuid.uuid5(SAFETY_CHECK_NAMESPACE, f"{cls.type}/{stamp}"),
            occurred_at=start,
            slot_start=stamp,
        )


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncRunFinished(DomainEvent):
    """S7: an invoice sync run ended without failing (SUCCESS, NO_CHANGE or WARNING), recorded
    in the transaction that gave the run its final status. `counts`: customers synced,
    subscriptions synced, customers failed, adjustments applied, warnings."""

    type = "invoice_sync.run_finished"
    version = 1
    aggregate_type = "invoice_sync"

    partner_id: int
    program_id: int
    run_id: int
    invoice_id: int | None
    status: str
    counts: dict[str, int]


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncRunFailed(DomainEvent):
    """S7, S8: an invoice sync run ended in FAILURE (same payload as `run_finished`, with the
    run's message)."""

    type = "invoice_sync.run_failed"
    version = 1
    aggregate_type = "invoice_sync"

    partner_id: int
    program_id: int
    run_id: int
    invoice_id: int | None
    status: str
    counts: dict[str, int]
    message: str | None = None


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncAwaitingApproval(DomainEvent):
    """S5: an invoice sync run planned its adjustments and waits for a partner admin to
    approve or dismiss them (the program's settings require approval); recorded again when
    an approved plan had gone stale and was planned and shown again."""

    type = "invoice_sync.awaiting_approval"
    version = 1
    aggregate_type = "invoice_sync"

    partner_id: int
    program_id: int
    run_id: int
    invoice_id: int | None = None
    customers: int = 0  # customers with changes awaiting a decision


class ApprovalDecision(StrEnum):
    APPROVED = "APPROVED"
    DISMISSED = "DISMISSED"


@register
@dataclass(frozen=True, kw_only=True)
class InvoiceSyncDecided(DomainEvent):
    """S5: a partner admin approved or dismissed (some of) a run's planned changes; the
    syncer applies the decisions (writing approved plans only if they are still current)."""

    type = "invoice_sync.decided"
    version = 1
    aggregate_type = "invoice_sync"

    partner_id: int
    run_id: int
    decision: str
