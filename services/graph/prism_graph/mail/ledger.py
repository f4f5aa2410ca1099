"""The states of the mail outbox's rows, as the sender moves them (each in its own short
transaction, never while the SMTP server is being talked to).

PENDING -> CLAIMED (a batch, with a lease and the pass's token) -> SENDING (the intent, just
before the hand-over) -> SENT; or PENDING again after a back-off; or FAILED. A row whose
sender stopped is recovered when its lease runs out: CLAIMED goes back to PENDING (it was
never handed over), SENDING becomes FAILED with `OUTCOME_UNKNOWN` (it may have been). Every
change after the claim applies only while the pass still holds the row's token, so a stale
claim never overwrites another sender's work. `requeue` is the operator's deliberate re-send.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, selectinload

from prism_graph.mail.mime import build_message
from prism_graph.mail.settings import MailSettings
from prism_graph.mail.smtp import MAX_ERROR_LENGTH
from prism_platform.db import utcnow, writer
from prism_platform.mail import MailAttachment, MailMessage, MailStatus
from prism_platform.metrics import MAIL_OUTCOMES

log = logging.getLogger(__name__)

OUTCOME_UNKNOWN = (
    "outcome unknown: the sender stopped while handing this message to the SMTP server; "
    "it is not sent again automatically so that it is never sent twice. Look for its "
    "Message-ID in the server's log and requeue it if it did not arrive."
)


@dataclass(frozen=True)
class Outgoing:
    """A claimed row, ready to hand over."""

    id: int
    attempts: int
    envelope_to: tuple[str, ...]
    message: EmailMessage | None  # None: it cannot be built (kept as `build_error`)
    build_error: str | None


def retry_delay(attempts: int, base: float, cap: float) -> timedelta:
    """Back-off after `attempts` failed attempts: base, 2*base, 4*base ... up to cap, jittered."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


class MailLedger:
    def __init__(self, engine: Engine, settings: MailSettings) -> None:
        self._writer = writer(engine)
        self._settings = settings
        self._lease = timedelta(seconds=settings.mail_lease_seconds)

    def claim(self, now: datetime, token: str) -> list[Outgoing]:
        """Recover stale claims, then claim a batch of due PENDING rows for the pass `token`."""
        with Session(self._writer) as session, session.begin():
            self._recover_stale(session, now)
            ids = list(
                session.scalars(
                    select(MailMessage.id)
                    .where(
                        MailMessage.status == MailStatus.PENDING,
                        MailMessage.available_at <= now,
                    )
                    .order_by(MailMessage.available_at, MailMessage.id)
                    .limit(self._settings.mail_batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            session.execute(
                update(MailMessage)
                .where(MailMessage.id.in_(ids))
                .values(
                    status=MailStatus.CLAIMED,
                    claim_token=token,
                    claimed_until=now + self._lease,
                )
            )
            rows = session.scalars(
                select(MailMessage)
                .where(MailMessage.id.in_(ids))
                .options(selectinload(MailMessage.attachments))
                .order_by(MailMessage.available_at, MailMessage.id)
            ).all()
            return [self._outgoing(row) for row in rows]

    def _outgoing(self, row: MailMessage) -> Outgoing:
        envelope_to = tuple(row.to_addresses) + tuple(row.cc_addresses)
        try:
            message = build_message(row, self._settings.mail_from)
        except (ValueError, TypeError, LookupError) as exc:
            return Outgoing(row.id, row.attempts, envelope_to, None, f"cannot build: {exc}")
        return Outgoing(row.id, row.attempts, envelope_to, message, None)

    def _recover_stale(self, session: Session, now: datetime) -> None:
        stale = MailMessage.claimed_until < now
        released = session.execute(
            update(MailMessage)
            .where(MailMessage.status == MailStatus.CLAIMED, stale)
            .values(status=MailStatus.PENDING, claim_token=None, claimed_until=None)
        )
        unknown = session.execute(
            update(MailMessage)
            .where(MailMessage.status == MailStatus.SENDING, stale)
            .values(
                status=MailStatus.FAILED,
                claim_token=None,
                claimed_until=None,
                last_error=OUTCOME_UNKNOWN,
            )
        )
        if _rowcount(unknown):
            MAIL_OUTCOMES.labels("failed").inc(_rowcount(unknown))
        if _rowcount(released) or _rowcount(unknown):
            log.warning(
                "mail: recovered %d message(s) of a stopped sender; %d marked FAILED with an "
                "unknown outcome",
                _rowcount(released) + _rowcount(unknown),
                _rowcount(unknown),
            )

    def mark_sending(self, item: Outgoing, token: str) -> bool:
        """Commit the intent to hand `item` over; False if the pass no longer holds it."""
        with Session(self._writer) as session, session.begin():
            result = session.execute(
                update(MailMessage)
                .where(
                    MailMessage.id == item.id,
                    MailMessage.claim_token == token,
                    MailMessage.status == MailStatus.CLAIMED,
                )
                .values(status=MailStatus.SENDING, claimed_until=utcnow() + self._lease)
            )
            return _rowcount(result) == 1

    def finish(
        self,
        item: Outgoing,
        token: str,
        status: MailStatus,
        now: datetime,
        error: str | None,
    ) -> None:
        """Record a final outcome: SENT (with a note, if any) or FAILED (with why)."""
        values: dict[str, object] = {
            "status": status,
            "attempts": item.attempts + 1,
            "claim_token": None,
            "claimed_until": None,
            "last_error": error[:MAX_ERROR_LENGTH] if error else None,
        }
        if status == MailStatus.SENT:
            values["sent_at"] = now
        self._update_claimed(item, token, values)
        MAIL_OUTCOMES.labels("sent" if status == MailStatus.SENT else "failed").inc()

    def retry_or_fail(self, item: Outgoing, token: str, now: datetime, error: str) -> None:
        """A failed attempt: PENDING after a back-off, or FAILED after MAIL_MAX_ATTEMPTS."""
        attempts = item.attempts + 1
        if attempts >= self._settings.mail_max_attempts:
            log.warning("mail %d failed after %d attempts: %s", item.id, attempts, error)
            self.finish(item, token, MailStatus.FAILED, now, f"gave up: {error}")
            return
        self._back_off(item, token, now, error, counts_as_attempt=True)

    def release(self, item: Outgoing, token: str, now: datetime, error: str) -> None:
        """Give back a message that was never tried, to wait like the one that failed."""
        self._back_off(item, token, now, error, counts_as_attempt=False)

    def _back_off(
        self, item: Outgoing, token: str, now: datetime, error: str, *, counts_as_attempt: bool
    ) -> None:
        delay = retry_delay(
            item.attempts + 1,
            self._settings.mail_retry_base_seconds,
            self._settings.mail_retry_max_seconds,
        )
        values: dict[str, object] = {
            "status": MailStatus.PENDING,
            "available_at": now + delay,
            "claim_token": None,
            "claimed_until": None,
            "last_error": error[:MAX_ERROR_LENGTH],
        }
        if counts_as_attempt:
            values["attempts"] = item.attempts + 1
        self._update_claimed(item, token, values)
        if counts_as_attempt:
            MAIL_OUTCOMES.labels("retried").inc()

    def _update_claimed(self, item: Outgoing, token: str, values: dict[str, object]) -> None:
        # Only while this pass still holds the row: a stale claim never overwrites another's.
        with Session(self._writer) as session, session.begin():
            session.execute(
                update(MailMessage)
                .where(MailMessage.id == item.id, MailMessage.claim_token == token)
                .values(**values)
            )

    def prune(self, now: datetime | None = None) -> int:
        """Delete messages sent more than MAIL_RETENTION_DAYS ago (attachments cascade)."""
        cutoff = (now or utcnow()) - timedelta(days=self._settings.mail_retention_days)
        with Session(self._writer) as session, session.begin():
            ids = select(MailMessage.id).where(
                MailMessage.status == MailStatus.SENT, MailMessage.sent_at < cutoff
            )
            # Attachments explicitly, whether or not the database enforces ON DELETE CASCADE.
            session.execute(delete(MailAttachment).where(MailAttachment.message_id.in_(ids)))
            result = session.execute(delete(MailMessage).where(MailMessage.id.in_(ids)))
            return _rowcount(result)


def requeue(engine: Engine, idempotency_key: str, now: datetime | None = None) -> bool:
    """Send a FAILED message again, on purpose (an operator's decision); False if not FAILED."""
    with Session(writer(engine)) as session, session.begin():
        result = session.execute(
            update(MailMessage)
            .where(
                MailMessage.idempotency_key == idempotency_key,
                MailMessage.status == MailStatus.FAILED,
            )
            .values(status=MailStatus.PENDING, attempts=0, available_at=now or utcnow())
        )
        return _rowcount(result) == 1


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
