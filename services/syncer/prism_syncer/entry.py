"""Module for Dramatiq's own CLI (`dramatiq prism_syncer.entry`), as `prism worker` runs it.

Dramatiq's CLI imports a module and expects its broker and actors to be declared by the
import, so this one module does its wiring at import time; nothing else in Prism does.
"""

from __future__ import annotations

from prism_platform.logging import configure_logging
from prism_platform.metrics import dramatiq_metrics
from prism_platform.settings import load_settings
from prism_syncer.settings import SyncerSettings
from prism_syncer.worker import build_syncer

settings = load_settings(SyncerSettings)
configure_logging(settings.log_level, settings.log_format)
app = build_syncer(settings)
broker = app.broker
if settings.metrics_port:
    # `prism worker` prepared the shared metrics directory and the server's port.
    dramatiq_metrics(broker, boot_now=False)
