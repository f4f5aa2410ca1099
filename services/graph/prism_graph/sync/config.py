"""The PSA configuration a request uses, put in the context by the composition root."""

from __future__ import annotations

from prism_graph.common.errors import ServiceUnavailable
from prism_graph.context import Info
from prism_graph.settings import GraphSettings
from prism_psa.connections import PsaConfig


def build_psa_config(settings: GraphSettings) -> PsaConfig:
    return PsaConfig.of(settings, settings.autotask_zone_probe_url)


def psa_config(info: Info) -> PsaConfig:
    config = info.context.psa
    if config is None:
        raise ServiceUnavailable("PSA sync is not configured on this server.")
    return config
