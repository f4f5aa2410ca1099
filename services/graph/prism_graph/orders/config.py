"""What the order use cases need from the deployment: where the RFI link points, how long it
stays open, and the mail sender to wake on commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from prism_graph.mail.outbox import MailSignal


@dataclass(frozen=True)
class OrdersConfig:
    base_url: str = "http://127.0.0.1:8000"
    rfi_ttl: timedelta = timedelta(days=30)
    wake: MailSignal | None = None

    def rfi_url(self, token: str) -> str:
        return f"{self.base_url}/rfi?token={token}"
