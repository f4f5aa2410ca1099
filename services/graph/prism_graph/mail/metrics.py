"""The mail queue's gauges, read when Prometheus scrapes the mailer (`prism_platform.metrics`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, func, select

from prism_platform.db import utcnow
from prism_platform.mail import MailMessage, MailStatus
from prism_platform.metrics import MAIL_OLDEST_AGE, MAIL_QUEUE, Reader, watch

UNSENT = (MailStatus.PENDING, MailStatus.CLAIMED, MailStatus.SENDING, MailStatus.FAILED)


def mail_queue(engine: Engine) -> Reader:
    """Messages not sent, by status (every status shown, 0 included, so that an alert on
    FAILED has a series from the start), and the age of the oldest PENDING one."""

    def read() -> Iterable[Metric]:
        with engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(MailMessage.status, func.count())
                    .where(MailMessage.status.in_(UNSENT))
                    .group_by(MailMessage.status)
                ).all()
            )
            oldest = conn.scalar(
                select(func.min(MailMessage.created_at)).where(
                    MailMessage.status == MailStatus.PENDING
                )
            )
        age = max((utcnow() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        return [
            MAIL_QUEUE.family({(status.value,): float(counts.get(status, 0)) for status in UNSENT}),
            MAIL_OLDEST_AGE.family(age),
        ]

    return read


def watch_mail(engine: Engine) -> Callable[[], None]:
    """What a mailer shows at each scrape: the mail queue. Returns how to stop."""
    return watch("mail queue", mail_queue(engine))
