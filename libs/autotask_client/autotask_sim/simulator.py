"""One simulated Autotask database: its state, rules, limits and faults, and the back
door through which tests act as people working in the Autotask UI."""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path
from typing import Any

from .api import Api, entity_name
from .config import DEFAULT_STATE_PATH, SimConfig
from .faults import Fault, Faults
from .limits import Budget, ThreadLimit
from .metadata import ADJUSTMENTS, CONTRACT_SERVICES, SERVICES, UNITS
from .rules import Rules
from .seed import seed
from .store import Record, Store

REQUEST_LOG_SIZE = 10_000


class Simulator(Api):
    """State, rules, limits and faults of one simulated Autotask database.

    The methods not starting with ``_`` are the Python back door: they model people
    working in the Autotask UI and switch faults, and never pass through the API's rules
    unless they say so.
    """

    def __init__(self, config: SimConfig | None = None, state_path: str | Path | None = None):
        self.config = config or SimConfig.from_env()
        self.store = Store(state_path if state_path is not None else DEFAULT_STATE_PATH)
        self.rules = Rules(self.store, self.config)
        self.faults = Faults()
        self.budget = Budget(
            self.config.hourly_budget, self.config.budget_window_seconds, self.config.clock
        )
        self.threads = ThreadLimit(self.config.per_endpoint_concurrency)
        self.latency_random = random.Random(self.config.latency_seed)
        self.user_locked = False
        self.user_active = True
        self.failed_logins = 0
        self.denied: set[tuple[str, str]] = set()
        # Bounded: a dev server runs for days.
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=REQUEST_LOG_SIZE)
        if self.config.seed and self.store.meta("seeded") is None:
            seed(self.rules)

    # -- back door ------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything and reseed."""
        self.store.wipe()
        if self.config.seed:
            seed(self.rules)
        self.faults.clear()
        self.budget.preload(0)
        self.user_locked = False
        self.user_active = True
        self.failed_logins = 0
        self.denied.clear()
        self.request_log.clear()

    def records(self, entity: str) -> list[Record]:
        return self.store.all(entity_name(entity))

    def record(self, entity: str, id: int) -> Record | None:
        return self.store.get(entity_name(entity), id)

    def edit(self, entity: str, id: int, **fields: Any) -> Record:
        """Change a record as a UI user would, bypassing API validation."""
        name = entity_name(entity)
        with self.store.transaction():
            record = self.store.get(name, id)
            if record is None:
                raise KeyError(f"{name} {id} does not exist")
            record.update(fields)
            self.store.put(name, record)
            if name == CONTRACT_SERVICES:
                self.rules.recompute_units(id)
            return record

    def delete(self, entity: str, id: int) -> bool:
        """Delete as a UI user would (the API itself has no delete for these entities)."""
        name = entity_name(entity)
        with self.store.transaction():
            gone = self.store.delete(name, id)
            if name == CONTRACT_SERVICES:
                for adj in self.store.where(ADJUSTMENTS, "contractServiceID", [id]):
                    if adj["contractServiceID"] == id:
                        self.store.delete(ADJUSTMENTS, adj["id"])
                self.rules.recompute_units(id)
            return gone

    def deactivate_service(self, id: int) -> Record:
        return self.edit(SERVICES, id, isActive=False)

    def adjust_units(
        self,
        contract_id: int,
        service_id: int,
        unit_change: int,
        effective_date: str,
        *,
        adjusted_unit_price: float | None = None,
        adjusted_unit_cost: float | None = None,
    ) -> int:
        """A UI user's unit adjustment; the same rules as the API apply."""
        body: dict[str, Any] = {
            "contractID": contract_id,
            "serviceID": service_id,
            "unitChange": unit_change,
            "effectiveDate": effective_date,
        }
        if adjusted_unit_price is not None:
            body["adjustedUnitPrice"] = adjusted_unit_price
        if adjusted_unit_cost is not None:
            body["adjustedUnitCost"] = adjusted_unit_cost
        return self.rules.create(ADJUSTMENTS, body)

    def units(self, contract_service_id: int) -> list[Record]:
        return [
            u
            for u in self.store.where(UNITS, "contractServiceID", [contract_service_id])
            if u["contractServiceID"] == contract_service_id
        ]

    def lock_user(self, locked: bool = True) -> None:
        """Lock (or, as an administrator in the UI would, unlock) the API user."""
        self.user_locked = locked
        self.failed_logins = 0

    def activate_user(self, active: bool = True) -> None:
        """Set the API user's Active box, as an administrator would in the UI."""
        self.user_active = active

    def deny(self, entity: str, verb: str, denied: bool = True) -> None:
        """Take a permission (``create``/``update``/``query``) away from the API user."""
        key = (entity_name(entity), verb)
        if denied:
            self.denied.add(key)
        else:
            self.denied.discard(key)

    def use_budget(self, count: int) -> None:
        """Pretend ``count`` requests were made in the current hour."""
        self.budget.preload(count)

    def add_fault(self, fault: Fault) -> Fault:
        return self.faults.add(fault)

    def wait_in_flight(self, endpoint: str, count: int, timeout: float = 5.0) -> bool:
        return self.threads.wait_for(endpoint, count, timeout)

    def close(self) -> None:
        self.faults.release()
        self.store.close()
