"""The SMTP transport: connecting to the server and one message's SMTP transaction.

The transaction is spelled out step by step (MAIL, RCPT, DATA, the end of DATA) so that the
one uncertain moment is known: a connection lost *after* the message's data went out
(`Unknown`) may mean the server accepted it, while one lost before (`ConnectionLost`) means
it certainly did not. The sender turns these outcomes into row states; nothing here touches
the database.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from prism_graph.mail.mime import MIME_POLICY
from prism_graph.mail.settings import MailSettings

# The longest error text kept, in the log and in a row's `last_error`.
MAX_ERROR_LENGTH = 2000

_LEADING_DOT = re.compile(rb"(?m)^\.")


class Transient(Exception):
    """The server could not take the message now (unreachable, 4xx): try again later."""


class Permanent(Exception):
    """The server refused the message (5xx): trying again will not help."""


class Unknown(Exception):
    """The connection failed after the message's data went out: it may have been accepted."""


class ConnectionLost(Exception):
    """The connection cannot be used for the remaining messages of the batch."""


def connect(settings: MailSettings) -> smtplib.SMTP:
    """A connection to SMTP_HOST:SMTP_PORT, after STARTTLS and login when configured."""
    s = settings
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
        quietly_quit(smtp)
        raise
    return smtp


def transact(
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
                raise Transient(f"recipients refused for now: {detail}")
            raise Permanent(f"recipients refused: {detail}")
        code, resp = smtp.docmd("DATA")
        _check(code, resp, "DATA", expected=354)
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        # Nothing of the message went out yet: it certainly was not accepted.
        raise ConnectionLost(describe(exc)) from exc
    try:
        payload = _LEADING_DOT.sub(b"..", data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        smtp.send(payload + b".\r\n")
        code, resp = smtp.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise Unknown(describe(exc)) from exc
    _check(code, resp, "end of DATA")
    return refused


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


def quietly_reset(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.rset()


def quietly_quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _check(code: int, resp: bytes | str, step: str, expected: int = 250) -> None:
    if code == expected or (expected == 250 and 200 <= code < 300):
        return
    text = f"{step}: {code} {_text(resp)}"
    if code >= 500:
        raise Permanent(text)
    raise Transient(text)


def _text(resp: bytes | str) -> str:
    return resp.decode("utf-8", "replace") if isinstance(resp, bytes) else resp


class ProbeFailed(Exception):
    """The SMTP server cannot take Prism's mail; the message names the step that failed."""


def probe(settings: MailSettings, timeout: float) -> list[str]:
    """Connect, EHLO, STARTTLS and login when configured, NOOP, QUIT; the steps done.

    What `prism check` (and the mailer's health check) ask of the mail server: everything
    `connect` does before a message, without sending one. Raises `ProbeFailed`.
    """
    s = settings
    address = f"{s.smtp_host}:{s.smtp_port}"
    step = f"connect to {address}"
    steps: list[str] = []
    smtp: smtplib.SMTP | None = None
    try:
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        steps.append(f"connected to {address}")
        step = "EHLO"
        code, resp = smtp.ehlo()
        _probe_reply(code, resp, step)
        steps.append("EHLO")
        if s.smtp_starttls:
            step = "STARTTLS"
            if not smtp.has_extn("starttls"):
                raise ProbeFailed("STARTTLS: SMTP_STARTTLS is on but the server does not offer it")
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
            steps.append("STARTTLS")
        if s.smtp_username:
            step = f"login as {s.smtp_username}"
            if not smtp.has_extn("auth"):
                raise ProbeFailed(
                    f"{step}: SMTP_USERNAME is set but the server offers no AUTH"
                    + ("" if s.smtp_starttls else " (without STARTTLS many servers do not)")
                )
            password = s.smtp_password.get_secret_value() if s.smtp_password else ""
            smtp.login(s.smtp_username, password)
            steps.append(step)
        step = "NOOP"
        code, resp = smtp.noop()
        _probe_reply(code, resp, step)
        steps.append("NOOP")
    except ProbeFailed:
        raise
    except smtplib.SMTPResponseException as exc:
        raise ProbeFailed(f"{step}: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise ProbeFailed(f"{step}: {describe(exc)}") from exc
    finally:
        if smtp is not None:
            quietly_quit(smtp)
    return steps


def _probe_reply(code: int, resp: bytes | str, step: str) -> None:
    if not 200 <= code < 300:
        raise ProbeFailed(f"{step}: {code} {_text(resp)}")
