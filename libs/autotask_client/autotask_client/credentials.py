"""The API user's credentials; kept out of reprs, logs and exception messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str = field(repr=False)
    integration_code: str = field(repr=False)
    #: Resource to act as on writes (optional ``ImpersonationResourceId`` header).
    impersonation_resource_id: int | None = None

    def headers(self, *, write: bool) -> dict[str, str]:
        """The documented auth headers (AUTOTASK.md §2)."""
        out = {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
        }
        # Impersonation only matters for who created/updated a record.
        if write and self.impersonation_resource_id is not None:
            out["ImpersonationResourceId"] = str(self.impersonation_resource_id)
        return out

    def scrub(self, text: str) -> str:
        """``text`` with every credential value masked."""
        for value in (self.secret, self.integration_code, self.username):
            if value:
                text = text.replace(value, "***")
        return text
