"""A local SMTP sink for development: accepts every message and keeps it in a Maildir.

`prism dev` starts it on SMTP_HOST/SMTP_PORT's loopback address so that the mail sender
really talks SMTP; `prism mail list` shows what arrived (`list_received` + `format_received`).
The Maildir (MAIL_SINK_DIR, default `var/mail/`) can also be opened with any mail client.
"""

from __future__ import annotations

import mailbox
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

# Envelope details the sink adds on top of each stored message (like a local delivery agent).
RCPT_HEADER = "X-Prism-Sink-Rcpt-To"


class _MaildirHandler:
    def __init__(self, maildir: Path) -> None:
        for sub in ("tmp", "new", "cur"):  # also when `maildir` itself already exists
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self._box = mailbox.Maildir(maildir, create=False)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        head = (
            f"Return-Path: <{envelope.mail_from}>\n{RCPT_HEADER}: {', '.join(envelope.rcpt_tos)}\n"
        ).encode()
        with self._lock:
            self._box.add(head + content.replace(b"\r\n", b"\n"))
        return "250 Message accepted for delivery"


class SinkHandle:
    """A running sink; `stop()` (or leaving the `with` block) shuts it down."""

    def __init__(self, controller: Controller, maildir: Path) -> None:
        self._controller = controller
        self.maildir = maildir
        self.host: str = controller.hostname
        self.port: int = controller.port

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SinkHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_sink(host: str, port: int, maildir: Path) -> SinkHandle:
    """Listen for SMTP on host:port (in a background thread) and store mail in `maildir`."""
    maildir = Path(maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    controller = Controller(_MaildirHandler(maildir), hostname=host, port=port)
    controller.start()  # returns once the server answers; raises if the port is taken
    return SinkHandle(controller, maildir)


@dataclass(frozen=True)
class ReceivedMail:
    key: str  # the Maildir key; `read_received(maildir, key)` opens the message
    mail_from: str
    to: tuple[str, ...]  # the envelope recipients (To, Cc and Bcc alike)
    subject: str
    date: datetime | None
    message_id: str
    attachments: tuple[str, ...]


def _parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=default_policy).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def read_received(maildir: Path, key: str) -> EmailMessage:
    return _parse(mailbox.Maildir(maildir, create=False).get_bytes(key))


def list_received(maildir: Path) -> list[ReceivedMail]:
    """What the sink has received, oldest first; empty if nothing ever arrived."""
    if not Path(maildir).is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False)
    items = []
    for key in box.iterkeys():
        message = _parse(box.get_bytes(key))
        rcpts = str(message.get(RCPT_HEADER, "") or message.get("To", ""))
        try:
            sent = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
        except (TypeError, ValueError):
            sent = None
        items.append(
            ReceivedMail(
                key=key,
                mail_from=str(message.get("From", "")),
                to=tuple(a.strip() for a in rcpts.split(",") if a.strip()),
                subject=str(message.get("Subject", "")),
                date=sent,
                message_id=str(message.get("Message-ID", "")),
                attachments=tuple(
                    part.get_filename() or "(unnamed)" for part in message.iter_attachments()
                ),
            )
        )
    items.sort(key=lambda m: (m.date.timestamp() if m.date else 0.0, m.key))
    return items


def format_received(items: list[ReceivedMail]) -> str:
    """A plain-text listing for the terminal."""
    if not items:
        return "No mail has arrived.\n"
    lines = []
    for m in items:
        when = m.date.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if m.date else "(no date)"
        lines.append(f"{when}  {m.subject}")
        lines.append(f"    from {m.mail_from}")
        lines.append(f"    to   {', '.join(m.to)}")
        if m.attachments:
            lines.append(f"    attachments: {', '.join(m.attachments)}")
        lines.append(f"    key  {m.key}")
    lines.append(f"{len(items)} message(s).")
    return "\n".join(lines) + "\n"
