"""From a partner's stored connection to a working PSA adapter (S1).

Both services use this: the API to test credentials and list pickers live, the syncer to
sync. Clients are made per use (no module-level client); the zone cache may be shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dramatiq.rate_limits import RateLimiterBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

from autotask_client import (
    DEFAULT_ZONE_PROBE_URL,
    AutotaskClient,
    Credentials,
    RetryPolicy,
    ZoneCache,
)
from prism_domain.sync import Credentials as PartnerCredentials
from prism_platform.metrics import autotask_request_observed
from prism_psa.autotask import AutotaskPsa
from prism_psa.limits import DramatiqLimiter, integration_key, make_backend
from prism_psa.secrets import CredentialCipher
from prism_tables.sync.connections import PsaConnection

AUTOTASK = "AUTOTASK"
DEFAULT_TIMEOUT_SECONDS = 20.0


@dataclass
class PsaConfig:
    """What it takes to reach a partner's PSA: the key for its secret and where Autotask is."""

    cipher: CredentialCipher
    zone_probe_url: str = DEFAULT_ZONE_PROBE_URL
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    zone_cache: ZoneCache = field(default_factory=ZoneCache)
    #: Where the request budget and slots are counted (N3); None: the client does not limit.
    limits: RateLimiterBackend | None = None
    #: The client's retries of idempotent calls; None: the client's defaults.
    retry: RetryPolicy | None = None

    @classmethod
    def from_settings(
        cls, secret_key: str, zone_probe_url: str | None, redis_url: str | None = None
    ) -> PsaConfig:
        return cls(
            CredentialCipher(secret_key),
            zone_probe_url or DEFAULT_ZONE_PROBE_URL,
            limits=make_backend(redis_url),
        )

    def autotask(self, credentials: PartnerCredentials) -> AutotaskPsa:
        client = AutotaskClient(
            Credentials(credentials.username, credentials.secret, credentials.integration_code),
            zone_probe_url=self.zone_probe_url,
            zone_cache=self.zone_cache,
            timeout=self.timeout,
            retry=self.retry,
            observe=autotask_request_observed,
        )
        if self.limits is not None:
            client.limiter = DramatiqLimiter(
                self.limits,
                database_key=lambda: str(client.zone().ci),
                integration=integration_key(credentials.integration_code),
            )
        return AutotaskPsa(client)

    def credentials_of(self, row: PsaConnection) -> PartnerCredentials:
        return PartnerCredentials(
            username=row.username,
            secret=self.cipher.decrypt(row.secret_encrypted),
            integration_code=self.cipher.decrypt(row.integration_code_encrypted),
        )


def connection_of(session: Session, partner_id: int) -> PsaConnection | None:
    return session.scalar(
        select(PsaConnection).where(
            PsaConnection.partner_id == partner_id, PsaConnection.psa == AUTOTASK
        )
    )
