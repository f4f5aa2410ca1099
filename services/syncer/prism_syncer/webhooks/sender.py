"""Sending a webhook delivery: claim it, POST it signed (outside any transaction), record
the attempt and what comes next (success, a retry after a back-off, or FAILED).

A delivery is claimed by moving its next attempt past a lease in one conditional UPDATE, so
two workers (the one that fanned it out and a sweep) never send the same attempt twice; a
worker that dies mid-attempt leaves it due again once the lease ends.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from prism_domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    RETRY_BASE,
    SIGNATURE_HEADER,
    DeliveryStatus,
    clean_url,
    retry_delay,
    sign,
)
from prism_platform.db import utcnow, writer
from prism_psa.secrets import WEBHOOK_SECRETS, CredentialCipher, UnreadableSecret
from prism_tables.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

#: How much of a receiver's answer is kept with the attempt.
RESPONSE_EXCERPT_BYTES = 2000
DUE_BATCH = 100
#: A call for due attempts stops starting new ones after this long (a receiver that times
#: out on every attempt must not hold a worker thread); the next call goes on.
SWEEP_BUDGET_SECONDS = 120.0
USER_AGENT = "Prism-Webhooks/1"


def now() -> datetime:
    """The sender's clock (tests stop it here, as they stop the API's in `zones.now`)."""
    return utcnow()


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes signed and sent: the same on every attempt of a delivery."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class WebhookConfig:
    secret_key: str
    timeout: float = 5.0
    max_attempts: int = 8
    retry_base: timedelta = RETRY_BASE
    allow_http_loopback: bool = False
    cipher: CredentialCipher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.cipher = CredentialCipher(self.secret_key, WEBHOOK_SECRETS)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout * 2 + 30)


@dataclass(frozen=True)
class Outcome:
    http_status: int | None
    response_body: str | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


class WebhookSender:
    def __init__(self, engine: Engine, config: WebhookConfig) -> None:
        self.engine = engine
        self.config = config

    def send(self, delivery_ids: Iterable[int]) -> int:
        """Attempt each of `delivery_ids` that is due now; how many were attempted."""
        sent = 0
        with httpx.Client(
            timeout=self.config.timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            for delivery_id in delivery_ids:
                sent += self._attempt(client, delivery_id)
        return sent

    def send_due(self) -> int:
        """Attempt every delivery whose next attempt is due (retries, and deliveries a
        worker stopped before sending), of enabled endpoints; how many were attempted."""
        total, began = 0, time.monotonic()
        while time.monotonic() - began < SWEEP_BUDGET_SECONDS:
            with Session(self.engine) as session:
                ids = list(
                    session.scalars(
                        select(WebhookDelivery.id)
                        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                        .where(
                            WebhookDelivery.status == DeliveryStatus.PENDING.value,
                            WebhookDelivery.next_attempt_at <= now(),
                            WebhookEndpoint.enabled.is_(True),
                        )
                        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                        .limit(DUE_BATCH)
                    )
                )
            if not ids:
                return total
            attempted = self.send(ids)
            total += attempted
            if attempted == 0:  # all claimed by another worker meanwhile
                return total
        return total

    def _claim(self, delivery_id: int, at: datetime) -> bool:
        with Session(writer(self.engine)) as session, session.begin():
            result = session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                    WebhookDelivery.next_attempt_at <= at,
                )
                .values(next_attempt_at=at + self.config.lease)
            )
            return bool(getattr(result, "rowcount", 0))

    def _attempt(self, client: httpx.Client, delivery_id: int) -> int:
        started = now()
        if not self._claim(delivery_id, started):
            return 0
        with Session(self.engine) as session:
            row = session.execute(
                select(WebhookDelivery, WebhookEndpoint)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id == delivery_id)
            ).one_or_none()
            if row is None:
                return 0
            delivery, endpoint = row
            session.expunge_all()
        outcome = self._post(client, delivery, endpoint, started)
        self._record(delivery_id, started, outcome)
        log.info(
            "webhook delivery %s (%s) to endpoint %s: %s",
            delivery.uid,
            delivery.event_type,
            endpoint.id,
            outcome.http_status or outcome.error,
        )
        return 1

    def _post(
        self,
        client: httpx.Client,
        delivery: WebhookDelivery,
        endpoint: WebhookEndpoint,
        at: datetime,
    ) -> Outcome:
        url = clean_url(endpoint.url, allow_http_loopback=self.config.allow_http_loopback)
        if not isinstance(url, str):
            return Outcome(None, None, f"Not sent: {url.message}", 0)
        try:
            secret = self.config.cipher.decrypt(endpoint.secret_encrypted)
        except UnreadableSecret:
            return Outcome(
                None,
                None,
                "Not sent: the signing secret cannot be read (the server's key changed); "
                "rotate the endpoint's secret.",
                0,
            )
        body = body_bytes(delivery.payload)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, int(at.timestamp()), body),
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: delivery.uid,
        }
        began = time.monotonic()
        try:
            with client.stream("POST", url, content=body, headers=headers) as response:
                excerpt = bytearray()
                for chunk in response.iter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                        break
                text = bytes(excerpt[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", errors="replace")
                return Outcome(response.status_code, text, None, _ms(began))
        except httpx.TimeoutException:
            return Outcome(None, None, f"No answer within {self.config.timeout:g} s.", _ms(began))
        except httpx.HTTPError as exc:
            return Outcome(None, None, f"{type(exc).__name__}: {exc}"[:500], _ms(began))

    def _record(self, delivery_id: int, at: datetime, outcome: Outcome) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:  # its endpoint was deleted meanwhile
                return
            session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    requested_at=at,
                    http_status=outcome.http_status,
                    response_body=outcome.response_body,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    succeeded=outcome.succeeded,
                )
            )
            delivery.attempts += 1
            delivery.attempts_left = max(0, delivery.attempts_left - 1)
            delivery.last_attempt_at = at
            if outcome.succeeded:
                delivery.status = DeliveryStatus.SUCCEEDED.value
                delivery.next_attempt_at = None
            elif delivery.attempts_left == 0:
                delivery.status = DeliveryStatus.FAILED.value
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = at + retry_delay(
                    delivery.attempts, self.config.retry_base
                )


def _ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)
