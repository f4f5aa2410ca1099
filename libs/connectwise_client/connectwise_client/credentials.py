"""The API member's keys and the integration's clientId; kept out of reprs, logs and errors."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    #: The company id typed on the login screen (e.g. ``"prismdemo"``); not a secret.
    company_id: str
    public_key: str = field(repr=False)
    private_key: str = field(repr=False)
    #: The integration's GUID from developer.connectwise.com; required on every call.
    client_id: str = field(repr=False)

    def authorization(self) -> str:
        """``Basic base64(companyId+publicKey:privateKey)`` (docs/connectwise.md §2)."""
        raw = f"{self.company_id}+{self.public_key}:{self.private_key}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization(), "clientId": self.client_id}

    def scrub(self, text: str) -> str:
        """``text`` with every secret value masked (the keys, the clientId, the auth token)."""
        for value in (self.private_key, self.public_key, self.client_id, self.authorization()[6:]):
            if value:
                text = text.replace(value, "***")
        return text
