"""The mail outbox's table: defined in `prism_platform.mail` (shared with the sync worker,
which enqueues its notices too) and re-exported here for the API's code."""

from __future__ import annotations

from prism_platform.mail import BigId, MailAttachment, MailMessage, MailStatus

__all__ = ["BigId", "MailAttachment", "MailMessage", "MailStatus"]
