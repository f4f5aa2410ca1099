"""Simulator settings: the API member it accepts and the variants it plays.

Where docs/connectwise.md marks a behaviour UNCONFIRMED, the variant is a setting here so
tests can hold the client to every plausible answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_COMPANY_ID = "prismsim"
DEFAULT_PUBLIC_KEY = "SimPublicKey0001"
DEFAULT_PRIVATE_KEY = "sim-private-key-not-for-production"
DEFAULT_CLIENT_ID = "00000000-0000-4000-8000-0000000000c1"
DEFAULT_PORT = 8082


@dataclass
class SimConfig:
    company_id: str = DEFAULT_COMPANY_ID
    public_key: str = DEFAULT_PUBLIC_KEY
    private_key: str = field(default=DEFAULT_PRIVATE_KEY, repr=False)
    #: The clientIds the simulator accepts; real ConnectWise accepts any registered one.
    client_ids: frozenset[str] = frozenset({DEFAULT_CLIENT_ID})

    #: Address used in Link headers; None = the request's own.
    public_url: str | None = None
    #: The codebase companyinfo names; ``v4_6_release`` is always served as well.
    codebase: str = "v2025_1"
    version_code: str = "v2025.1"
    is_cloud: bool = True

    #: Documented: 25 by default, 1,000 at most.
    default_page_size: int = 25
    max_page_size: int = 1000
    #: UNCONFIRMED what a pageSize above the maximum gets: served as the maximum, or a 400.
    oversize_page: Literal["clamp", "400"] = "clamp"
    #: UNCONFIRMED what a missing clientId gets (401 most likely).
    missing_client_id_status: Literal[401, 403] = 401

    #: Off by default. Documented: 429 + Retry-After when "capacity limits" are near, and
    #: "over 1,000 requests per minute" will likely be limited; the real threshold is not
    #: published.
    requests_per_minute: int | None = None
    rate_window_seconds: float = 60.0

    #: Catalog item limits: 60 in the published 2020+ model, 25/30 in older SDKs (UNCONFIRMED
    #: which a given release enforces), so they are settings.
    catalog_identifier_length: int = 60
    catalog_description_length: int = 60
    customer_description_length: int = 6000
    invoice_description_length: int = 6000
    #: Assumption: an addition's effective date may not fall before its agreement's start.
    addition_within_agreement: bool = True
    #: Assumption standing in for the rule that billed history does not change: once an
    #: agreement has been invoiced through a day, an addition effective before that day
    #: keeps its quantity, prices, product and effective date, and cannot be cancelled
    #: before that day (a change is made by cancelling and adding).
    lock_billed_additions: bool = True

    enable_backdoor: bool = True
    seed: bool = True
    #: A sqlite3 file holding the state, so a restart keeps it; None = in memory only.
    #: A new file is seeded (with ``seed``), an existing one is used as it is.
    state_path: str | None = None
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def authorization_user(self) -> str:
        return f"{self.company_id}+{self.public_key}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SimConfig:
        env = dict(os.environ if env is None else env)
        cfg = cls()
        cfg.company_id = env.get("CONNECTWISE_SIM_COMPANY_ID", cfg.company_id)
        cfg.public_key = env.get("CONNECTWISE_SIM_PUBLIC_KEY", cfg.public_key)
        cfg.private_key = env.get("CONNECTWISE_SIM_PRIVATE_KEY", cfg.private_key)
        if env.get("CONNECTWISE_SIM_CLIENT_ID"):
            cfg.client_ids = frozenset({env["CONNECTWISE_SIM_CLIENT_ID"]})
        cfg.public_url = env.get("CONNECTWISE_SIM_PUBLIC_URL") or None
        if env.get("CONNECTWISE_SIM_REQUESTS_PER_MINUTE"):
            cfg.requests_per_minute = int(env["CONNECTWISE_SIM_REQUESTS_PER_MINUTE"])
        cfg.state_path = env.get("CONNECTWISE_SIM_STATE") or None
        if env.get("CONNECTWISE_SIM_BACKDOOR", "1") in ("0", "false", "no"):
            cfg.enable_backdoor = False
        return cfg
