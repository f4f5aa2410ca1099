"""What the webhook mutations need from the deployment, put in the context by the
composition root: the key that encrypts signing secrets, and whether plain http:// to this
machine is accepted (development and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prism_domain.webhooks import MAX_ENDPOINTS_PER_PARTNER
from prism_graph.common.errors import ServiceUnavailable
from prism_graph.context import Info
from prism_psa.secrets import WEBHOOK_SECRETS, CredentialCipher


@dataclass
class WebhookApiConfig:
    secret_key: str = field(repr=False)
    allow_http_loopback: bool = False
    max_endpoints: int = MAX_ENDPOINTS_PER_PARTNER

    @property
    def cipher(self) -> CredentialCipher:
        return CredentialCipher(self.secret_key, WEBHOOK_SECRETS)


def webhook_config(info: Info) -> WebhookApiConfig:
    config = info.context.webhooks
    if config is None:
        raise ServiceUnavailable("Webhooks are not configured on this server.")
    return config
