"""A local SMTP sink for development: accepts every message and keeps it in a Maildir.

`prism dev` starts it on SMTP_HOST/SMTP_PORT's loopback address so that the mail sender
really talks SMTP; `prism mail list` shows what arrived (`list_received` + `format_received`)
and `prism mail show ID` one message (`find_received` + `format_message`).
The Maildir (MAIL_SINK_DIR, default `var/mail/`) can also be opened with any mail client.
"""

from __future__ import annotations

import mailbox
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
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
        lines.append(f"    id   {m.key}")
    lines.append(f"{len(items)} message(s). `prism mail show ID` shows one: its text and links.")
    return "\n".join(lines) + "\n"


class UnknownMail(LookupError):
    """No message, or more than one, has the id asked for; the message says which."""


def find_received(maildir: Path, wanted: str) -> str:
    """The key of the message `wanted` names: its key as `prism mail list` shows it, or the
    start of one (enough to tell it from the others)."""
    wanted = wanted.strip()
    keys = sorted(mailbox.Maildir(maildir, create=False).keys()) if Path(maildir).is_dir() else []
    if wanted in keys:
        return wanted
    found = [k for k in keys if wanted and k.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UnknownMail(
            f"no message with id {wanted!r} in {maildir} ({len(keys)} there; "
            "`prism mail list` shows their ids)"
        )
    raise UnknownMail(f"{len(found)} messages have ids starting {wanted!r}: give more of it")


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k == "href" and v]


_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def links_of(message: EmailMessage) -> list[str]:
    """Every link the message carries, in its text and its HTML, each once, in order."""
    found: list[str] = []
    text = message.get_body(preferencelist=("plain",))
    if text is not None:
        found += _URL.findall(text.get_content())
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        parser = _Hrefs()
        parser.feed(html.get_content())
        found += parser.found
    return list(dict.fromkeys(u.rstrip(".,;") for u in found))


def format_message(message: EmailMessage, key: str) -> str:
    """One received message for the terminal: headers, text body, links, attachments."""
    lines = [f"id   {key}"]
    for name, value in message.items():
        if name.lower() in {"content-type", "content-transfer-encoding", "mime-version"}:
            continue
        lines.append(f"{name}: {value}")
    lines.append("")
    text = message.get_body(preferencelist=("plain",))
    lines.append("-- text --")
    lines.append(text.get_content().rstrip("\n") if text is not None else "(no text part)")
    lines.append("")
    links = links_of(message)
    lines.append(f"-- links ({len(links)}) --")
    lines += [f"  {u}" for u in links] or ["  (none)"]
    attachments = list(message.iter_attachments())
    lines.append(f"-- attachments ({len(attachments)}) --")
    for part in attachments:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        name = part.get_filename() or "(unnamed)"
        lines.append(f"  {name}  {part.get_content_type()}  {size} bytes")
    if not attachments:
        lines.append("  (none)")
    return "\n".join(lines) + "\n"
