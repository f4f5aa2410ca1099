"""Simulator settings: the API user it accepts and the limits and variants it plays.

Where AUTOTASK.md marks a behaviour UNCONFIRMED, the variant is a setting here so tests
can hold the client to every plausible answer.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_USERNAME = "prism-api@sim.autotask.test"
DEFAULT_SECRET = "sim-secret-not-for-production"  # noqa: S105 - documented simulator default
# 27 characters, like a real tracking identifier.
DEFAULT_INTEGRATION_CODE = "SIMPRISMINTEGRATIONCODE0001"
DEFAULT_PORT = 8081
DEFAULT_STATE_PATH = "var/autotask-sim.sqlite3"


@dataclass
class SimConfig:
    username: str = DEFAULT_USERNAME
    secret: str = field(default=DEFAULT_SECRET, repr=False)
    integration_code: str = field(default=DEFAULT_INTEGRATION_CODE, repr=False)

    #: Address reported by ZoneInformation and in nextPageUrl; None = the request's own.
    public_url: str | None = None
    zone_name: str = "Simulator"
    ci: int = 2600001

    #: Documented: 10,000 requests per rolling 60 minutes per database.
    hourly_budget: int = 10_000
    budget_window_seconds: float = 3600.0
    #: Documented: 3 concurrent requests per integration per endpoint (post-2023.1 users).
    per_endpoint_concurrency: int = 3
    #: UNCONFIRMED how a refusal looks: 429 + Retry-After, or 500 with an errors list.
    rate_limit_status: Literal[429, 500] = 429
    #: Documented: +0.5 s per call at 50% of the budget, +1 s at 75%.
    threshold_latency: bool = True

    page_size: int = 500
    #: SOAP-era limit (500 OR conditions per query); REST value UNCONFIRMED.
    max_or_conditions: int = 500
    #: Long GET query URLs come back 404 (KT issue #66).
    max_url_length: int = 2048
    #: UNCONFIRMED (100/150/200).
    service_name_length: int = 150
    #: UNCONFIRMED whether a 401 has a body.
    unauthorized_body: Literal["empty", "errors"] = "empty"
    #: UNCONFIRMED: a missing id may be a 404 or a 200 with ``{"item": null}``.
    missing_item: Literal["404", "null"] = "404"
    #: UNCONFIRMED what itemId an adjustment create returns (one fixture shows null).
    adjustment_item_id: Literal["id", "null", "zero"] = "id"
    #: Lock the API user after this many wrong secrets in a row (the seed's "The AutoTask
    #: API User is locked"); the real count is UNCONFIRMED, so it is off unless set.
    lockout_after_failures: int | None = None
    #: UNCONFIRMED what the REST API answers a locked or inactive API user (AUTOTASK.md §2):
    #: "errors" = 401 naming the account's state in the errors list (for a lock, the text
    #: Autotask is on record with); "plain" = exactly the answer a wrong secret gets.
    disabled_user_answer: Literal["errors", "plain"] = "errors"
    #: Assumption: an adjustment that takes units below zero is refused.
    allow_negative_units: bool = False
    #: Where a ContractServiceUnits row split by an adjustment ends. Autotask documents that
    #: "the previous row ends there" (at the adjustment's effective date, so two rows cover
    #: the change day); which day real rows show is UNCONFIRMED, so both are played.
    unit_row_end: Literal["day_before", "at_next"] = "day_before"
    #: The zone the Autotask instance works in (IANA name). UNCONFIRMED how real Autotask
    #: reads a date-time sent for a day field (effectiveDate, a contract's dates): the
    #: simulator takes it as the date it falls on in this zone (ECIT #94), so with a zone west
    #: of UTC a day sent as midnight UTC lands the day before.
    instance_time_zone: str = "UTC"
    #: A latency model for benchmarks (off by default): each authenticated request takes
    #: this long, drawn uniformly from (low, high) seconds by a random generator seeded with
    #: ``latency_seed``, while it holds its endpoint's thread slot, as real Autotask's calls
    #: take time server-side (e.g. (0.15, 0.4); ``bench/sync.py``).
    latency: tuple[float, float] | None = None
    latency_seed: int = 0
    #: Fault ``timeout`` holds a request at most this long, then answers 504.
    max_hang_seconds: float = 30.0

    enable_backdoor: bool = True
    seed: bool = True

    clock: Callable[[], float] = field(default=time.time, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SimConfig:
        env = dict(os.environ if env is None else env)
        cfg = cls()
        cfg.username = env.get("AUTOTASK_SIM_USERNAME", cfg.username)
        cfg.secret = env.get("AUTOTASK_SIM_SECRET", cfg.secret)
        cfg.integration_code = env.get("AUTOTASK_SIM_INTEGRATION_CODE", cfg.integration_code)
        cfg.public_url = env.get("AUTOTASK_SIM_PUBLIC_URL") or None
        if "AUTOTASK_SIM_HOURLY_BUDGET" in env:
            cfg.hourly_budget = int(env["AUTOTASK_SIM_HOURLY_BUDGET"])
        if "AUTOTASK_SIM_CONCURRENCY" in env:
            cfg.per_endpoint_concurrency = int(env["AUTOTASK_SIM_CONCURRENCY"])
        if env.get("AUTOTASK_SIM_LOCKOUT_AFTER"):
            cfg.lockout_after_failures = int(env["AUTOTASK_SIM_LOCKOUT_AFTER"])
        if env.get("AUTOTASK_SIM_DISABLED_USER_ANSWER") == "plain":
            cfg.disabled_user_answer = "plain"
        if env.get("AUTOTASK_SIM_RATE_LIMIT_STATUS") == "500":
            cfg.rate_limit_status = 500
        if env.get("AUTOTASK_SIM_UNIT_ROW_END") == "at_next":
            cfg.unit_row_end = "at_next"
        if env.get("AUTOTASK_SIM_TIME_ZONE"):
            cfg.instance_time_zone = env["AUTOTASK_SIM_TIME_ZONE"]
        if env.get("AUTOTASK_SIM_BACKDOOR", "1") in ("0", "false", "no"):
            cfg.enable_backdoor = False
        return cfg
