"""What the composition root calls to run mail: the sender, and the sink for development.

sender = build_sender(settings, engine, signal=mail_signal)
threading.Thread(target=sender.run, args=(stop,), name="mail-sender").start()

sink = start_dev_sink(settings)   # `prism dev` only; sink.stop() on shut-down
print(received_mail_report(settings))   # `prism mail list`
print(received_mail(settings, "ID"))     # `prism mail show ID`
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from prism_graph.mail.outbox import MailSignal
from prism_graph.mail.sender import MailSender
from prism_graph.mail.settings import MailSettings
from prism_graph.mail.sink import (
    SinkHandle,
    find_received,
    format_message,
    format_received,
    list_received,
    read_received,
    start_sink,
)

log = logging.getLogger(__name__)


def build_sender(
    settings: MailSettings, engine: Engine, *, signal: MailSignal | None = None
) -> MailSender:
    """A sender for `engine` (sync), woken by `signal` when given to `outbox.enqueue` too."""
    return MailSender(engine, settings, signal=signal)


def start_dev_sink(settings: MailSettings) -> SinkHandle:
    """Start the development SMTP sink on MAIL_SINK_HOST:SMTP_PORT, storing to MAIL_SINK_DIR."""
    if settings.is_production:
        raise RuntimeError("the development mail sink does not run in production")
    if settings.smtp_host not in {settings.mail_sink_host, "localhost", "127.0.0.1", "::1"}:
        log.warning(
            "SMTP_HOST is %s: mail goes there, not to the development sink", settings.smtp_host
        )
    handle = start_sink(settings.mail_sink_host, settings.smtp_port, settings.mail_sink_dir)
    log.info(
        "mail sink listening on %s:%d, storing to %s", handle.host, handle.port, handle.maildir
    )
    return handle


def received_mail_report(settings: MailSettings) -> str:
    """The text `prism mail list` prints: what the development sink has received."""
    return format_received(list_received(settings.mail_sink_dir))


def received_mail(settings: MailSettings, wanted: str) -> str:
    """The text `prism mail show ID` prints; `UnknownMail` when no message has that id."""
    key = find_received(settings.mail_sink_dir, wanted)
    return format_message(read_received(settings.mail_sink_dir, key), key)
