from __future__ import annotations

from pydantic import Field

from prism_platform.settings import CommonSettings


class SyncerSettings(CommonSettings):
    """Settings of the sync worker (environment variables, see .env.example)."""

    worker_processes: int = Field(1, ge=1, le=64, description="Dramatiq worker processes")
    worker_threads: int = Field(4, ge=1, le=64, description="threads per worker process")
    autotask_zone_probe_url: str | None = Field(
        None, description="Autotask zone lookup root; unset: webservices2.autotask.net"
    )
