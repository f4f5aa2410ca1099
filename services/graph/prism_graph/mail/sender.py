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

The rooms of the mailer: this loop and its passes here; the rows' state changes in
`ledger`; the SMTP transport in `smtp`; the MIME message of a row in `mime`.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from functools import partial

from sqlalchemy import Engine

from prism_graph.mail import smtp as transport
from prism_graph.mail.ledger import OUTCOME_UNKNOWN, MailLedger, Outgoing
from prism_graph.mail.outbox import MAIL_NOTIFY_CHANNEL, MailSignal
from prism_graph.mail.settings import MailSettings
from prism_platform.db import utcnow
from prism_platform.mail import MailStatus
from prism_platform.polling import Poller

log = logging.getLogger(__name__)

SmtpFactory = Callable[[], smtplib.SMTP]


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
        self._settings = settings
        self._ledger = MailLedger(engine, settings)
        self._signal = signal or MailSignal()
        self._smtp_factory = smtp_factory or partial(transport.connect, settings)
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
        batch = self._ledger.claim(now, token)
        self.last_claimed = len(batch)
        if not batch:
            return 0
        try:
            smtp = self._smtp_factory()
        except (OSError, smtplib.SMTPException) as exc:
            error = transport.describe(exc)
            log.warning(
                "mail: cannot reach the SMTP server %s:%d: %s",
                self._settings.smtp_host,
                self._settings.smtp_port,
                error,
            )
            for item in batch:
                self._ledger.retry_or_fail(item, token, now, error)
            return 0
        sent = 0
        try:
            for index, item in enumerate(batch):
                try:
                    if self._send_one(smtp, item, token, now):
                        sent += 1
                except transport.ConnectionLost as exc:
                    # The server went away: the rest of the batch waits like this one.
                    for rest in batch[index + 1 :]:
                        self._ledger.release(rest, token, now, str(exc))
                    break
        finally:
            transport.quietly_quit(smtp)
        return sent

    def _send_one(self, smtp: smtplib.SMTP, item: Outgoing, token: str, now: datetime) -> bool:
        ledger = self._ledger
        if item.message is None:
            ledger.finish(item, token, MailStatus.FAILED, now, item.build_error)
            return False
        if not ledger.mark_sending(item, token):
            return False  # our claim expired and another sender took it over
        envelope_from = parseaddr(self._settings.mail_from)[1]
        try:
            refused = transport.transact(smtp, envelope_from, item.envelope_to, item.message)
        except transport.Transient as exc:
            ledger.retry_or_fail(item, token, now, str(exc))
            transport.quietly_reset(smtp)
            return False
        except transport.Permanent as exc:
            log.warning("mail %d refused by the SMTP server: %s", item.id, exc)
            ledger.finish(item, token, MailStatus.FAILED, now, str(exc))
            transport.quietly_reset(smtp)
            return False
        except transport.Unknown as exc:
            log.error("mail %d: %s (%s)", item.id, OUTCOME_UNKNOWN, exc)
            ledger.finish(item, token, MailStatus.FAILED, now, f"{OUTCOME_UNKNOWN} ({exc})")
            raise transport.ConnectionLost(str(exc)) from exc
        except transport.ConnectionLost as exc:
            ledger.retry_or_fail(item, token, now, str(exc))
            raise
        note = None
        if refused:
            # Some recipients took it: sending again would duplicate it for them.
            note = "refused recipients: " + "; ".join(
                f"{addr} {code} {msg}" for addr, (code, msg) in sorted(refused.items())
            )
            log.warning("mail %d sent, but %s", item.id, note)
        ledger.finish(item, token, MailStatus.SENT, now, note)
        return True

    # -- housekeeping and the loop ----------------------------------------------------------

    def prune(self, now: datetime | None = None) -> int:
        """Delete messages sent more than MAIL_RETENTION_DAYS ago (attachments cascade)."""
        return self._ledger.prune(now)

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
