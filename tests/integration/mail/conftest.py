"""A real SMTP server on a loopback port (aiosmtpd), and a mail sender pointed at it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from prism_graph.mail.outbox import MailSignal
from prism_graph.mail.sender import MailSender
from prism_graph.mail.settings import MailSettings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class RecordingHandler:
    """Keeps what it accepts. `refuse_rcpt` / `refuse_data` make it answer with that reply."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse_rcpt: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 no such user"
        self.refuse_data: str | None = None  # e.g. "451 4.3.0 try again later"
        self.attempts = 0  # DATA commands seen, accepted or not
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.attempts += 1
            if self.refuse_data:
                return self.refuse_data
            # Parsed as a mail client would read it from disk: with plain newlines.
            data = envelope.content.replace(b"\r\n", b"\n")
            message = BytesParser(policy=default_policy).parsebytes(data)
            assert isinstance(message, EmailMessage)
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 2.0.0 queued"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(r.message["Message-ID"]) for r in self.received]


class SmtpServer:
    """An aiosmtpd server that can be stopped ("down") and started again on the same port."""

    def __init__(self, port: int, **controller_options: Any) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.handler = RecordingHandler()
        self._options = controller_options
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.handler, hostname=self.host, port=self.port, **self._options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpServer]]:
    """Start another server, e.g. with AUTH (aiosmtpd Controller options); stopped after."""
    servers: list[SmtpServer] = []

    def start(**controller_options: Any) -> SmtpServer:
        server = SmtpServer(free_port(), **controller_options)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_server_factory()


@pytest.fixture
def mail_settings(database_url: str, smtp_server: SmtpServer) -> MailSettings:
    return MailSettings(
        database_url=database_url,
        prism_env="test",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from="Prism Billing <billing@prism.example>",
        mail_max_attempts=4,
        mail_retry_base_seconds=30,
        mail_retry_max_seconds=600,
        mail_smtp_timeout=5,
        mail_poll_interval=0.05,
    )


@pytest.fixture
def mail_signal() -> MailSignal:
    return MailSignal()


@pytest.fixture
def sender(sync_engine: Engine, mail_settings: MailSettings, mail_signal: MailSignal) -> MailSender:
    return MailSender(sync_engine, mail_settings, signal=mail_signal)
