"""What the order use cases need from the deployment: where the RFI link points, how long it
stays open, and the mail sender to wake on commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from prism_graph.mail.outbox import MailSignal
from prism_platform.links import Links


@dataclass(frozen=True)
class OrdersConfig:
    links: Links = field(
        default_factory=Links
    )  # the RFI link is on PUBLIC_URL (prism_platform.links)
    rfi_ttl: timedelta = timedelta(days=30)
    wake: MailSignal | None = None

    def rfi_url(self, token: str) -> str:
        return self.links.rfi(token)
