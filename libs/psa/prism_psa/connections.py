"""From a partner's stored connection to a working PSA adapter (S1, S13).

Both services use this: the API to test credentials and list pickers live, the syncer to
sync. Clients are made per use (no module-level client); the zone cache may be shared.
`PsaConfig.open(row)` gives the adapter of the row's PSA (Autotask or ConnectWise), so the
layers above name no PSA: they ask the program's settings which one it syncs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dramatiq.rate_limits import RateLimiterBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

import connectwise_client as cw
from autotask_client import (
    DEFAULT_ZONE_PROBE_URL,
    AutotaskClient,
    AutotaskError,
    Credentials,
    RetryPolicy,
    ZoneCache,
)
from prism_domain.sync import ConnectWiseCredentials, PsaKind
from prism_domain.sync import Credentials as PartnerCredentials
from prism_platform.metrics import autotask_request_observed
from prism_platform.settings import CommonSettings
from prism_psa.autotask import AutotaskPsa
from prism_psa.connectwise import ConnectWisePsa
from prism_psa.invoices.sources import program_psa
from prism_psa.limits import (
    CONNECTWISE_BUDGET,
    CONNECTWISE_PREFIX,
    CONNECTWISE_WINDOW_SECONDS,
    BudgetUse,
    DramatiqLimiter,
    budget_use,
    connectwise_company_key,
    connectwise_limiter,
    integration_key,
    make_backend,
)
from prism_psa.port import PsaError
from prism_psa.secrets import CredentialCipher
from prism_tables.sync.connections import PsaConnection

AUTOTASK = PsaKind.AUTOTASK.value
CONNECTWISE = PsaKind.CONNECTWISE.value
DEFAULT_TIMEOUT_SECONDS = 20.0

Adapter = AutotaskPsa | ConnectWisePsa


def not_connected(psa: PsaKind | str) -> str:
    """Why a sync cannot start: the partner is not connected to the program's PSA."""
    label = PsaKind(psa).label
    return f"No {label} connection: connect to {label} on the Connections screen."


def unreadable(psa: PsaKind | str) -> str:
    """Why a sync cannot start: the stored credentials cannot be decrypted any more."""
    return (
        f"The stored {PsaKind(psa).label} credentials cannot be read (the server's key "
        "changed): enter them again on the Connections screen."
    )


class PsaNotConfigured(PsaError):
    """This server cannot reach that PSA (e.g. no ConnectWise clientId configured)."""


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
    #: The clientId this integration registered with ConnectWise (developer.connectwise.com);
    #: None: ConnectWise connections are refused on this server.
    connectwise_client_id: str | None = field(default=None, repr=False)
    #: Allow `http://127.0.0.1:…` ConnectWise sites (a local simulator): dev and tests only.
    connectwise_allow_http_loopback: bool = False

    @classmethod
    def from_settings(
        cls,
        secret_key: str,
        zone_probe_url: str | None,
        redis_url: str | None = None,
        *,
        connectwise_client_id: str | None = None,
        connectwise_allow_http_loopback: bool = False,
    ) -> PsaConfig:
        return cls(
            CredentialCipher(secret_key),
            zone_probe_url or DEFAULT_ZONE_PROBE_URL,
            limits=make_backend(redis_url),
            connectwise_client_id=connectwise_client_id,
            connectwise_allow_http_loopback=connectwise_allow_http_loopback,
        )

    @classmethod
    def of(cls, settings: CommonSettings, zone_probe_url: str | None) -> PsaConfig:
        """What a process's settings say (its key, Redis, ConnectWise clientId)."""
        client_id = settings.connectwise_client_id
        return cls.from_settings(
            settings.secret_key.get_secret_value(),
            zone_probe_url,
            settings.redis_url,
            connectwise_client_id=client_id.get_secret_value() if client_id else None,
            connectwise_allow_http_loopback=settings.connectwise_allow_http_loopback,
        )

    def open(self, row: PsaConnection) -> Adapter:
        """The adapter of the connection's PSA; `UnreadableSecret` when the stored secrets
        cannot be decrypted, `PsaNotConfigured` when this server cannot reach that PSA."""
        if row.psa == CONNECTWISE:
            return self.connectwise(self.connectwise_credentials_of(row))
        return self.autotask(self.credentials_of(row))

    def connectwise(self, credentials: ConnectWiseCredentials) -> ConnectWisePsa:
        if not self.connectwise_client_id:
            raise PsaNotConfigured(
                "This Prism server is not set up for ConnectWise (no CONNECTWISE_CLIENT_ID): "
                "ask its operator."
            )
        client = cw.ConnectWiseClient(
            cw.Credentials(
                credentials.company_id,
                credentials.public_key,
                credentials.private_key,
                self.connectwise_client_id,
            ),
            site=credentials.site,
            timeout=self.timeout,
            retry=self.retry,
        )
        if self.limits is not None:
            client.limiter = connectwise_limiter(
                self.limits,
                company=connectwise_company_key(credentials.site, credentials.company_id),
                integration=integration_key(credentials.public_key),
            )
        return ConnectWisePsa(client)

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

    def request_budget(self, row: PsaConnection) -> BudgetUse | None:
        """N3: the requests every worker and screen counted against the connection's PSA
        database (Autotask's database, ConnectWise's company) in the current window, read
        from the shared limiter without spending one; None without a shared limiter, or when
        Autotask's zone (which names the database) cannot be found. `UnreadableSecret` when
        the stored credentials cannot be decrypted."""
        if self.limits is None:
            return None
        if row.psa == CONNECTWISE:  # site and company id are stored in the clear
            return budget_use(
                self.limits,
                connectwise_company_key(row.site or "", row.username),
                budget=CONNECTWISE_BUDGET,
                window_seconds=CONNECTWISE_WINDOW_SECONDS,
                prefix=CONNECTWISE_PREFIX,
            )
        psa = self.autotask(self.credentials_of(row))
        try:
            return budget_use(self.limits, str(psa.client.zone().ci))
        except AutotaskError:
            return None
        finally:
            psa.close()

    def connectwise_credentials_of(self, row: PsaConnection) -> ConnectWiseCredentials:
        return ConnectWiseCredentials(
            site=row.site or "",
            company_id=row.username,
            public_key=self.cipher.decrypt(row.integration_code_encrypted),
            private_key=self.cipher.decrypt(row.secret_encrypted),
        )

    def credentials_of(self, row: PsaConnection) -> PartnerCredentials:
        return PartnerCredentials(
            username=row.username,
            secret=self.cipher.decrypt(row.secret_encrypted),
            integration_code=self.cipher.decrypt(row.integration_code_encrypted),
        )


def connection_of(
    session: Session, partner_id: int, psa: PsaKind | str = PsaKind.AUTOTASK
) -> PsaConnection | None:
    return session.scalar(
        select(PsaConnection).where(
            PsaConnection.partner_id == partner_id, PsaConnection.psa == str(psa)
        )
    )


__all__ = [
    "AUTOTASK",
    "CONNECTWISE",
    "PsaConfig",
    "PsaNotConfigured",
    "connection_of",
    "not_connected",
    "program_psa",
    "unreadable",
]
