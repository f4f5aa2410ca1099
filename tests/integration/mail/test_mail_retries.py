"""Retries, give-ups and the never-twice rule of the mail sender (issue 4 item 3)."""

from __future__ import annotations

import logging
import smtplib
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from pydantic import SecretStr
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from prism_graph.database import Database
from prism_graph.mail.ledger import OUTCOME_UNKNOWN, requeue
from prism_graph.mail.outbox import MailSignal, OutgoingMail, enqueue, message_id_for
from prism_graph.mail.sender import MailSender
from prism_graph.mail.settings import MailSettings
from prism_platform.db import utcnow
from prism_platform.mail import MailMessage, MailStatus
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def mail(
    idempotency_key: str | None = None, to: tuple[str, ...] = ("a@customer.example",)
) -> OutgoingMail:
    return OutgoingMail(
        to=to,
        subject="Statement of account",
        text="Amount due: EUR 10.00\n",
        html="<p>Amount due: EUR 10.00</p>",
        idempotency_key=idempotency_key or f"test:{uuid.uuid4()}",
        template="statement_due",
    )


async def put(database: Database, *messages: OutgoingMail, wake: MailSignal | None = None) -> None:
    async with database.unit_of_work() as uow:
        for m in messages:
            await enqueue(uow.session, m, wake=wake)
        await uow.commit()


def the_row(engine: Engine) -> MailMessage:
    with Session(engine) as session:
        (row,) = session.scalars(select(MailMessage)).all()
        return row


def later(minutes: float) -> Any:
    return utcnow() + timedelta(minutes=minutes)


async def test_server_down_the_message_waits_with_back_off_and_goes_when_it_is_back(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    smtp_server.stop()
    await put(database, mail())

    assert sender.send_pending() == 0

    row = the_row(sync_engine)
    assert row.status == MailStatus.PENDING and row.attempts == 1
    assert "Connection" in (row.last_error or "") or "refused" in (row.last_error or "")
    assert utcnow() + timedelta(seconds=14) < row.available_at  # 30 s base, jitter >= half
    assert sender.send_pending() == 0  # not due yet: the server is not hammered
    assert the_row(sync_engine).attempts == 1

    smtp_server.start()
    assert sender.send_pending(now=later(5)) == 1

    row = the_row(sync_engine)
    assert row.status == MailStatus.SENT and row.attempts == 2 and row.last_error is None
    assert len(smtp_server.received) == 1


async def test_a_4xx_answer_is_retried_later(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    smtp_server.handler.refuse_data = "451 4.3.0 Mailbox temporarily unavailable"
    await put(database, mail())

    assert sender.send_pending() == 0
    row = the_row(sync_engine)
    assert row.status == MailStatus.PENDING and row.available_at > utcnow()
    assert "451" in (row.last_error or "")

    smtp_server.handler.refuse_data = None
    assert sender.send_pending(now=later(5)) == 1
    assert the_row(sync_engine).status == MailStatus.SENT
    assert len(smtp_server.received) == 1


async def test_the_back_off_grows_until_the_sender_gives_up(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    smtp_server.stop()  # MAIL_MAX_ATTEMPTS is 4 in these tests
    await put(database, mail())

    waits = []
    now = utcnow()
    for attempt in range(1, 4):
        assert sender.send_pending(now=now) == 0
        row = the_row(sync_engine)
        assert (row.status, row.attempts) == (MailStatus.PENDING, attempt)
        waits.append(row.available_at - now)
        now = row.available_at
    assert waits[0] < waits[2]  # 30 s, 60 s, 120 s (each jittered down to half at most)
    assert timedelta(seconds=60) <= waits[2] <= timedelta(seconds=120)

    assert sender.send_pending(now=now) == 0
    row = the_row(sync_engine)
    assert (row.status, row.attempts) == (MailStatus.FAILED, 4)
    assert (row.last_error or "").startswith("gave up:")
    smtp_server.start()
    assert sender.send_pending(now=later(24 * 60)) == 0  # given up is final
    assert smtp_server.received == []


async def test_a_5xx_refusal_fails_at_once_and_is_kept_with_its_error(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    smtp_server.handler.refuse_rcpt["gone@customer.example"] = "550 5.1.1 No such user"
    await put(database, mail(to=("gone@customer.example",)))

    assert sender.send_pending() == 0

    row = the_row(sync_engine)
    assert (row.status, row.attempts) == (MailStatus.FAILED, 1)
    assert "550" in (row.last_error or "") and "gone@customer.example" in (row.last_error or "")
    assert sender.send_pending(now=later(24 * 60)) == 0
    assert smtp_server.received == []


async def test_a_5xx_answer_to_the_data_fails_at_once(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    smtp_server.handler.refuse_data = "554 5.7.1 Message rejected as spam"
    await put(database, mail(), mail())

    assert sender.send_pending() == 0

    with Session(sync_engine) as session:
        statuses = session.scalars(select(MailMessage.status)).all()
    assert statuses == [MailStatus.FAILED, MailStatus.FAILED]
    assert smtp_server.handler.attempts == 2  # each tried once, on one connection


async def test_one_refused_recipient_does_not_stop_the_others(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    smtp_server.handler.refuse_rcpt["gone@customer.example"] = "550 5.1.1 No such user"
    await put(database, mail(to=("gone@customer.example", "here@customer.example")))

    assert sender.send_pending() == 1

    (got,) = smtp_server.received
    assert got.rcpt_tos == ("here@customer.example",)
    row = the_row(sync_engine)
    assert row.status == MailStatus.SENT
    assert "gone@customer.example 550" in (row.last_error or "")  # kept, not retried


class DropsAfterData(smtplib.SMTP):
    """The connection breaks after the message went out, before the server's answer arrives."""

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.dropped = True

    def getreply(self) -> tuple[int, bytes]:
        if getattr(self, "dropped", False):
            self.close()
            raise smtplib.SMTPServerDisconnected("connection lost")
        return super().getreply()


async def test_a_message_whose_outcome_is_unknown_is_never_sent_again(
    database: Database, sync_engine: Engine, mail_settings: MailSettings, smtp_server: Any
) -> None:
    def connect() -> smtplib.SMTP:
        smtp = DropsAfterData(smtp_server.host, smtp_server.port, timeout=5)
        smtp.ehlo()
        return smtp

    k = f"test:{uuid.uuid4()}"
    await put(database, mail(k))

    assert MailSender(sync_engine, mail_settings, smtp_factory=connect).send_pending() == 0
    wait_until(lambda: len(smtp_server.received) == 1, what="the server to accept it")

    row = the_row(sync_engine)
    assert row.status == MailStatus.FAILED
    assert (row.last_error or "").startswith(OUTCOME_UNKNOWN)
    sender = MailSender(sync_engine, mail_settings)
    assert sender.send_pending(now=later(24 * 60)) == 0
    assert smtp_server.handler.message_ids() == [message_id_for(k)]

    # An operator who checked the server's log may send it again, on purpose.
    assert requeue(sync_engine, k)
    assert sender.send_pending() == 1
    assert smtp_server.handler.message_ids() == [message_id_for(k)] * 2  # recognisable


async def test_a_sender_that_died_mid_way(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    # Given a dead sender's claims: one message only claimed, one being handed over.
    claimed, sending = mail(), mail()
    await put(database, claimed, sending)
    expired = utcnow() - timedelta(seconds=1)
    with Session(sync_engine) as session, session.begin():
        for m, status in ((claimed, MailStatus.CLAIMED), (sending, MailStatus.SENDING)):
            session.execute(
                update(MailMessage)
                .where(MailMessage.idempotency_key == m.idempotency_key)
                .values(status=status, claim_token="dead", claimed_until=expired)
            )

    # When its leases have run out, the next pass recovers them.
    assert sender.send_pending() == 1

    # Then the claimed one is sent, and the one in flight is failed, never sent twice.
    assert smtp_server.handler.message_ids() == [message_id_for(claimed.idempotency_key)]
    with Session(sync_engine) as session:
        in_flight = session.scalars(
            select(MailMessage).where(MailMessage.idempotency_key == sending.idempotency_key)
        ).one()
    assert in_flight.status == MailStatus.FAILED and in_flight.last_error == OUTCOME_UNKNOWN


async def test_two_senders_at_once_deliver_each_message_exactly_once(
    database: Database, sync_engine: Engine, mail_settings: MailSettings, smtp_server: Any
) -> None:
    messages = [mail() for _ in range(40)]
    await put(database, *messages)
    settings = mail_settings.model_copy(update={"mail_batch_size": 3})
    senders = [MailSender(sync_engine, settings) for _ in range(2)]
    start = threading.Barrier(len(senders))
    counts: list[int] = []

    def drain(sender: MailSender) -> None:
        start.wait()
        total = 0
        while sent := sender.send_pending():
            total += sent
        counts.append(total)

    threads = [threading.Thread(target=drain, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    ids = smtp_server.handler.message_ids()
    assert sorted(ids) == sorted(message_id_for(m.idempotency_key) for m in messages)
    assert len(set(ids)) == 40 and sum(counts) == 40
    with Session(sync_engine) as session:
        assert set(session.scalars(select(MailMessage.status))) == {MailStatus.SENT}


async def test_a_running_sender_is_woken_by_the_commit(
    database: Database,
    sync_engine: Engine,
    mail_settings: MailSettings,
    mail_signal: MailSignal,
    smtp_server: Any,
) -> None:
    # The poll interval is far longer than the wait: only the wake-up can deliver in time
    # (the in-process signal on SQLite; NOTIFY alone on PostgreSQL, as for another process).
    on_postgres = sync_engine.dialect.name == "postgresql"
    settings = mail_settings.model_copy(update={"mail_poll_interval": 60.0})
    sender = MailSender(sync_engine, settings, signal=mail_signal)
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: sender.passes >= 1, what="the sender's first pass")
        await put(database, mail(), wake=None if on_postgres else mail_signal)
        wait_until(lambda: len(smtp_server.received) == 1, timeout=5, what="the mail to arrive")
    finally:
        stop.set()
        sender.wake()
        thread.join(timeout=10)
    assert not thread.is_alive()


async def test_sent_messages_are_pruned_after_the_retention(
    database: Database, sync_engine: Engine, sender: MailSender, smtp_server: Any
) -> None:
    await put(database, mail(), mail())
    assert sender.send_pending() == 2
    smtp_server.stop()
    await put(database, mail())
    sender.send_pending()  # stays pending

    assert sender.prune() == 0
    assert sender.prune(now=later(31 * 24 * 60)) == 2

    assert the_row(sync_engine).status == MailStatus.PENDING


async def test_a_login_failure_waits_and_never_shows_the_password(
    database: Database,
    sync_engine: Engine,
    mail_settings: MailSettings,
    smtp_server: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = f"pw-{uuid.uuid4()}"
    settings = mail_settings.model_copy(
        update={"smtp_username": "prism", "smtp_password": SecretStr(secret)}
    )
    await put(database, mail())

    with caplog.at_level(logging.DEBUG):
        sender = MailSender(sync_engine, settings)
        assert sender.send_pending() == 0  # this server offers no AUTH: a configuration fault

    row = the_row(sync_engine)
    assert row.status == MailStatus.PENDING and "AUTH" in (row.last_error or "")
    assert secret not in caplog.text and secret not in (row.last_error or "")
    assert smtp_server.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_the_sender_logs_in_when_credentials_are_configured(
    database: Database,
    sync_engine: Engine,
    mail_settings: MailSettings,
    smtp_server_factory: Any,
) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"right-password")

    # Loopback only, so AUTH without TLS here; production sets SMTP_STARTTLS.
    server = smtp_server_factory(
        authenticator=authenticator, auth_require_tls=False, auth_required=True
    )
    settings = mail_settings.model_copy(
        update={
            "smtp_port": server.port,
            "smtp_username": "prism",
            "smtp_password": SecretStr("right-password"),
        }
    )
    await put(database, mail())

    assert MailSender(sync_engine, settings).send_pending() == 1

    assert logins == [(b"prism", b"right-password")]
    assert len(server.received) == 1
