"""Building the MIME message of an outbox row: what the SMTP server receives.

Text, with the HTML as its alternative, then the attachments; headers and bodies in 7-bit
(RFC 2047 words, quoted-printable/base64) so that any server takes it. The `Message-ID`
comes from the row (derived from its idempotency key), so a re-send is recognisable.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from prism_platform.mail import MailMessage

MIME_POLICY = SMTP_POLICY.clone(cte_type="7bit")


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
