"""Settings of the mail sender and the development SMTP sink (environment variables).

The SMTP server and the From address are shared by every service (`CommonSettings`:
SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_STARTTLS, MAIL_FROM).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from prism_platform.settings import CommonSettings


class MailSettings(CommonSettings):
    mail_max_attempts: int = Field(
        8, ge=1, le=100, description="delivery attempts before a message is marked FAILED"
    )
    mail_retry_base_seconds: float = Field(
        30.0, gt=0, description="back-off after the first failed attempt; doubles each time"
    )
    mail_retry_max_seconds: float = Field(
        3600.0, gt=0, description="longest back-off between two attempts"
    )
    mail_poll_interval: float = Field(
        1.0, gt=0, le=300, description="seconds the sender sleeps when nothing is due"
    )
    mail_batch_size: int = Field(20, ge=1, le=1000, description="messages claimed per pass")
    mail_smtp_timeout: float = Field(
        30.0, gt=0, le=600, description="seconds to wait for the SMTP server on each step"
    )
    mail_lease_seconds: float = Field(
        600.0,
        gt=0,
        description=(
            "how long a sender may hold claimed messages; after it, a message never handed to "
            "the SMTP server is released, and one being handed over is marked FAILED"
        ),
    )
    mail_retention_days: int = Field(
        30, ge=1, description="days sent messages (and their attachments) are kept"
    )
    mail_sink_host: str = Field("127.0.0.1", description="address of the development SMTP sink")
    mail_sink_dir: Path = Field(
        Path("var/mail"), description="Maildir where the development SMTP sink stores mail"
    )
