"""The mail sender: delivers the mail outbox over SMTP, each logical message at most once.

A pass of `MailSender.send_pending`:

1. *Claim* a batch of due PENDING rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several
   senders share the work; SQLite: the transaction takes the write lock up front) and mark
   them CLAIMED with a lease and this pass's token; commit.
2. Open one SMTP connection (STARTTLS and login when configured).
3. For each message: commit SENDING (the *intent*), hand it to the server (MAIL, RCPT, DATA),
   commit the outcome: SENT; PENDING again after an exponential back-off with jitter when the
   server is unreachable or answers 4xx; FAILED on a 5xx refusal or after
   `MAIL_MAX_ATTEMPTS` attempts. The SMTP conversation never runs inside a database
   transaction, so no lock is held (and SQLite's writer is never blocked) while it talks.

The trade-off: **at most once**. The only moment we cannot know the outcome is between the
end of DATA and the commit of SENT (the sender dies, the connection drops before the
server's final reply, or the database is unreachable for the mark). Such a row stays SENDING;
when its lease runs out the next pass marks it FAILED with "outcome unknown" and never sends
it again, because a duplicate invoice or sign-in link is worse than an operator looking at
one rare, visible FAILED row (`requeue` sends it again on purpose). Rows that were only
CLAIMED when their sender died were never handed over and simply go back to PENDING. Every
message carries a `Message-ID` derived from its idempotency key, so even a deliberate
re-send is recognisable as the same logical message.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, selectinload

from prism_graph.mail.outbox import MAIL_NOTIFY_CHANNEL, MailSignal
from prism_graph.mail.settings import MailSettings
from prism_platform.db import utcnow, writer
from prism_platform.mail import MailAttachment, MailMessage, MailStatus
from prism_platform.polling import Poller

log = logging.getLogger(__name__)

# Headers and bodies in 7-bit (RFC 2047 words, quoted-printable/base64): any server takes it.
MIME_POLICY = SMTP_POLICY.clone(cte_type="7bit")
MAX_ERROR_LENGTH = 2000
OUTCOME_UNKNOWN = (
    "outcome unknown: the sender stopped while handing this message to the SMTP server; "
    "it is not sent again automatically so that it is never sent twice. Look for its "
    "Message-ID in the server's log and requeue it if it did not arrive."
)

SmtpFactory = Callable[[], smtplib.SMTP]


class _Transient(Exception):
    """The server could not take the message now (unreachable, 4xx): try again later."""


class _Permanent(Exception):
    """The server refused the message (5xx): trying again will not help."""


class _Unknown(Exception):
    """The connection failed after the message's data went out: it may have been accepted."""


class _ConnectionLost(Exception):
    """The connection cannot be used for the remaining messages of the batch."""


@dataclass(frozen=True)
class _Outgoing:
    id: int
    attempts: int
    envelope_to: tuple[str, ...]
    message: EmailMessage | None  # None: it cannot be built (kept as `build_error`)
    build_error: str | None


def retry_delay(attempts: int, base: float, cap: float) -> timedelta:
    """Back-off after `attempts` failed attempts: base, 2*base, 4*base ... up to cap, jittered."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def build_message(row: MailMessage, mail_from: str) -> EmailMessage:
    """The MIME message of a row: text (+ HTML alternative) (+ attachments)."""
    msg = EmailMessage(policy=MIME_POLICY)
    msg["From"] = mail_from
    msg["To"] = ", ".join(row.to_addresses)
    if row.cc_addresses:
        msg["Cc"] = ", ".join(row.cc_addresses)
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id_header
    if row.template:
        msg["X-Prism-Template"] = row.template
    msg.set_content(row.text_body)
    if row.html_body is not None:
        msg.add_alternative(row.html_body, subtype="html")
    for attachment in row.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return msg


class MailSender:
    def __init__(
        self,
        engine: Engine,
        settings: MailSettings,
        *,
        signal: MailSignal | None = None,
        smtp_factory: SmtpFactory | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._settings = settings
        self._signal = signal or MailSignal()
        self._smtp_factory = smtp_factory or self._connect
        self._lease = timedelta(seconds=settings.mail_lease_seconds)
        self._poller = Poller(
            "mail sender",
            engine,
            channel=MAIL_NOTIFY_CHANNEL,
            signal=self._signal,
            poll_interval=settings.mail_poll_interval,
            housekeeping=self._prune_and_log,
        )
        self.last_claimed = 0  # messages the last `send_pending` took on, whatever came of them

    # -- one pass ------------------------------------------------------------------------

    def send_pending(self, now: datetime | None = None) -> int:
        """Deliver one batch of due messages; return how many were sent."""
        now = now or utcnow()
        token = str(uuid.uuid4())
        batch = self._claim(now, token)
        self.last_claimed = len(batch)
        if not batch:
            return 0
        try:
            smtp = self._smtp_factory()
        except (OSError, smtplib.SMTPException) as exc:
            error = _describe(exc)
            log.warning(
                "mail: cannot reach the SMTP server %s:%d: %s",
                self._settings.smtp_host,
                self._settings.smtp_port,
                error,
            )
            for item in batch:
                self._retry_or_fail(item, token, now, error)
            return 0
        sent = 0
        try:
            for index, item in enumerate(batch):
                try:
                    if self._send_one(smtp, item, token, now):
                        sent += 1
                except _ConnectionLost as exc:
                    # The server went away: the rest of the batch waits like this one.
                    for rest in batch[index + 1 :]:
                        self._release(rest, token, now, str(exc))
                    break
        finally:
            _quietly_quit(smtp)
        return sent

    def _send_one(self, smtp: smtplib.SMTP, item: _Outgoing, token: str, now: datetime) -> bool:
        if item.message is None:
            self._finish(item, token, MailStatus.FAILED, now, item.build_error)
            return False
        if not self._mark_sending(item, token):
            return False  # our claim expired and another sender took it over
        try:
            refused = _transact(smtp, self._envelope_from(), item.envelope_to, item.message)
        except _Transient as exc:
            self._retry_or_fail(item, token, now, str(exc))
            _quietly_reset(smtp)
            return False
        except _Permanent as exc:
            log.warning("mail %d refused by the SMTP server: %s", item.id, exc)
            self._finish(item, token, MailStatus.FAILED, now, str(exc))
            _quietly_reset(smtp)
            return False
        except _Unknown as exc:
            log.error("mail %d: %s (%s)", item.id, OUTCOME_UNKNOWN, exc)
            self._finish(item, token, MailStatus.FAILED, now, f"{OUTCOME_UNKNOWN} ({exc})")
            raise _ConnectionLost(str(exc)) from exc
        except _ConnectionLost as exc:
            self._retry_or_fail(item, token, now, str(exc))
            raise
        note = None
        if refused:
            # Some recipients took it: sending again would duplicate it for them.
            note = "refused recipients: " + "; ".join(
                f"{addr} {code} {msg}" for addr, (code, msg) in sorted(refused.items())
            )
            log.warning("mail %d sent, but %s", item.id, note)
        self._finish(item, token, MailStatus.SENT, now, note)
        return True

    # -- database transitions --------------------------------------------------------------

    def _claim(self, now: datetime, token: str) -> list[_Outgoing]:
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

    def _outgoing(self, row: MailMessage) -> _Outgoing:
        envelope_to = tuple(row.to_addresses) + tuple(row.cc_addresses)
        try:
            message = build_message(row, self._settings.mail_from)
        except (ValueError, TypeError, LookupError) as exc:
            return _Outgoing(row.id, row.attempts, envelope_to, None, f"cannot build: {exc}")
        return _Outgoing(row.id, row.attempts, envelope_to, message, None)

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
        if _rowcount(released) or _rowcount(unknown):
            log.warning(
                "mail: recovered %d message(s) of a stopped sender; %d marked FAILED with an "
                "unknown outcome",
                _rowcount(released) + _rowcount(unknown),
                _rowcount(unknown),
            )

    def _mark_sending(self, item: _Outgoing, token: str) -> bool:
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

    def _finish(
        self,
        item: _Outgoing,
        token: str,
        status: MailStatus,
        now: datetime,
        error: str | None,
    ) -> None:
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

    def _retry_or_fail(self, item: _Outgoing, token: str, now: datetime, error: str) -> None:
        attempts = item.attempts + 1
        if attempts >= self._settings.mail_max_attempts:
            log.warning("mail %d failed after %d attempts: %s", item.id, attempts, error)
            self._finish(item, token, MailStatus.FAILED, now, f"gave up: {error}")
            return
        delay = retry_delay(
            attempts, self._settings.mail_retry_base_seconds, self._settings.mail_retry_max_seconds
        )
        self._update_claimed(
            item,
            token,
            {
                "status": MailStatus.PENDING,
                "attempts": attempts,
                "available_at": now + delay,
                "claim_token": None,
                "claimed_until": None,
                "last_error": error[:MAX_ERROR_LENGTH],
            },
        )

    def _release(self, item: _Outgoing, token: str, now: datetime, error: str) -> None:
        """Give back a message that was never tried, to wait like the one that failed."""
        delay = retry_delay(
            item.attempts + 1,
            self._settings.mail_retry_base_seconds,
            self._settings.mail_retry_max_seconds,
        )
        self._update_claimed(
            item,
            token,
            {
                "status": MailStatus.PENDING,
                "available_at": now + delay,
                "claim_token": None,
                "claimed_until": None,
                "last_error": error[:MAX_ERROR_LENGTH],
            },
        )

    def _update_claimed(self, item: _Outgoing, token: str, values: dict[str, object]) -> None:
        # Only while this pass still holds the row: a stale claim never overwrites another's.
        with Session(self._writer) as session, session.begin():
            session.execute(
                update(MailMessage)
                .where(MailMessage.id == item.id, MailMessage.claim_token == token)
                .values(**values)
            )

    # -- SMTP ------------------------------------------------------------------------------

    def _envelope_from(self) -> str:
        return parseaddr(self._settings.mail_from)[1]

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.mail_smtp_timeout)
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except BaseException:
            _quietly_quit(smtp)
            raise
        return smtp

    # -- housekeeping and the loop ----------------------------------------------------------

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

    def run(self, stop: threading.Event) -> None:
        """Send until `stop` is set, sleeping between passes until woken or polled."""
        s = self._settings
        log.info(
            "mail sender started (%s; SMTP %s:%d%s%s)",
            self._engine.dialect.name,
            s.smtp_host,
            s.smtp_port,
            ", STARTTLS" if s.smtp_starttls else "",
            f", user {s.smtp_username}" if s.smtp_username else "",
        )

        def work() -> bool:
            self.send_pending()
            return self.last_claimed >= s.mail_batch_size  # more may be due

        self._poller.run(stop, work)

    @property
    def passes(self) -> int:
        return self._poller.passes

    def wake(self) -> None:
        """Make a running `run` loop do a pass now (e.g. from `stop` handlers or tests)."""
        self._signal.notify()

    def _prune_and_log(self) -> None:
        pruned = self.prune()
        if pruned:
            log.info("mail sender pruned %d sent messages", pruned)


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


# -- the SMTP transaction, step by step so that the uncertain moment is known ---------------

_LEADING_DOT = re.compile(rb"(?m)^\.")


def _transact(
    smtp: smtplib.SMTP, envelope_from: str, recipients: Sequence[str], message: EmailMessage
) -> dict[str, tuple[int, str]]:
    """MAIL, RCPT, DATA; the recipients refused (if others accepted). Raises our outcomes."""
    data = message.as_bytes(policy=MIME_POLICY)
    try:
        code, resp = smtp.mail(envelope_from)
        _check(code, resp, "MAIL FROM")
        refused: dict[str, tuple[int, str]] = {}
        for rcpt in recipients:
            code, resp = smtp.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, _text(resp))
        if len(refused) == len(recipients):
            codes = {code for code, _ in refused.values()}
            detail = "; ".join(f"{a} {c} {m}" for a, (c, m) in refused.items())
            if any(400 <= c < 500 for c in codes):  # some may take it later
                raise _Transient(f"recipients refused for now: {detail}")
            raise _Permanent(f"recipients refused: {detail}")
        code, resp = smtp.docmd("DATA")
        _check(code, resp, "DATA", expected=354)
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        # Nothing of the message went out yet: it certainly was not accepted.
        raise _ConnectionLost(_describe(exc)) from exc
    try:
        payload = _LEADING_DOT.sub(b"..", data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        smtp.send(payload + b".\r\n")
        code, resp = smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise _Unknown(_describe(exc)) from exc
    _check(code, resp, "end of DATA")
    return refused


def _check(code: int, resp: bytes | str, step: str, expected: int = 250) -> None:
    if code == expected or (expected == 250 and 200 <= code < 300):
        return
    text = f"{step}: {code} {_text(resp)}"
    if code >= 500:
        raise _Permanent(text)
    raise _Transient(text)


def _text(resp: bytes | str) -> str:
    return resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


def _quietly_reset(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.rset()


def _quietly_quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
