"""For the order tests (O2-O7): a real SMTP server on loopback and the mail sender."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine

from prism_graph.mail.sender import MailSender
from prism_graph.mail.settings import MailSettings
from tests.integration.mail.conftest import SmtpServer, free_port


class Mailbox:
    """What the local SMTP server received, delivered from the mail outbox on demand."""

    def __init__(self, server: SmtpServer, sender: MailSender) -> None:
        self.server = server
        self.sender = sender

    def deliver(self) -> list[EmailMessage]:
        """Send what the outbox holds; every message received so far."""
        while self.sender.send_pending():
            pass
        return [r.message for r in self.server.received]


@pytest.fixture
def mailbox(database_url: str, sync_engine: Engine) -> Iterator[Mailbox]:
    server = SmtpServer(free_port())
    server.start()
    settings = MailSettings(
        database_url=database_url,
        prism_env="test",
        smtp_host=server.host,
        smtp_port=server.port,
        mail_smtp_timeout=5,
    )
    yield Mailbox(server, MailSender(sync_engine, settings))
    server.stop()
