from __future__ import annotations

from pydantic import Field

from prism_platform.settings import CommonSettings


class SyncerSettings(CommonSettings):
    """Settings of the sync worker (environment variables, see .env.example)."""

    worker_processes: int = Field(1, ge=1, le=64, description="Dramatiq worker processes")
    worker_threads: int = Field(4, ge=1, le=64, description="threads per worker process")
    worker_heartbeat_timeout: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="seconds a worker may be silent before Redis counts it dead and hands "
        "the messages it held unacknowledged to another worker",
    )
    worker_maintenance_chance: int = Field(
        1000,
        ge=0,
        le=1_000_000,
        description="in how many of a million broker commands a worker checks for dead "
        "workers' messages (Dramatiq's default)",
    )
    invoice_sync_lease_seconds: float = Field(
        300.0,
        ge=1,
        le=3600,
        description="how long a worker holds a contract service's invoice sync job before "
        "another worker may take it over (longer than any one Autotask request)",
    )
    webhooks_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="how long a webhook receiver may take to answer"
    )
    webhooks_max_attempts: int = Field(
        8, ge=1, le=20, description="attempts of a webhook delivery before it is FAILED"
    )
    webhooks_retry_base_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="wait after a delivery's first failed attempt; doubled after each "
        "further one, at most an hour",
    )
    autotask_zone_probe_url: str | None = Field(
        None, description="Autotask zone lookup root; unset: webservices2.autotask.net"
    )
