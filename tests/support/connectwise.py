"""Helpers for ConnectWise adapter tests: the simulator in-process behind `ConnectWisePsa`,
and what the simulator holds, read the way ConnectWise bills it (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectwise_client import ConnectWiseClient, Credentials, RetryPolicy
from connectwise_sim import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SimConfig,
    Simulator,
    create_app,
)
from connectwise_sim.entities import ADDITIONS, AGREEMENTS
from connectwise_sim.seed import CUSTOMER_IDS, MANAGED_TYPE_ID
from prism_http.testing import sim_http_client
from prism_psa.connectwise import ConnectWisePsa

#: The simulator's "today" in these tests: 2026-02-15T09:00:00Z.
NOW = datetime(2026, 2, 15, 9, tzinfo=UTC).timestamp()


@dataclass
class Clock:
    """A clock the client's retry sleeps move forward, so waiting takes no time."""

    now: float = NOW
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class ConnectWise:
    """A simulated ConnectWise company and the adapter on it."""

    sim: Simulator
    psa: ConnectWisePsa
    clock: Clock

    def add_agreement(
        self,
        *,
        start: date = date(2025, 1, 1),
        end: date | None = None,
        company: int = CUSTOMER_IDS[0],
        prorate: bool = True,
        cancelled: bool = False,
        name: str | None = None,
    ) -> int:
        """An agreement as a person makes it on ConnectWise's Agreements screen."""
        agreement_id = self.sim.store.new_id(AGREEMENTS, start=301)
        self.sim.store.put(
            AGREEMENTS,
            {
                "id": agreement_id,
                "name": name or f"Managed {agreement_id}",
                "type": {"id": MANAGED_TYPE_ID, "name": "Managed Services"},
                "company": {"id": company, "name": f"Company {company}"},
                "contact": None,
                "startDate": f"{start.isoformat()}T00:00:00Z",
                "endDate": f"{end.isoformat()}T00:00:00Z" if end else None,
                "noEndingDateFlag": end is None,
                "cancelledFlag": cancelled,
                "dateCancelled": None,
                "agreementStatus": "Cancelled" if cancelled else "Active",
                "billingCycle": {"id": 2, "name": "Monthly"},
                "billAmount": 0.0,
                "prorateFlag": prorate,
                "invoiceProratedAdditionsFlag": prorate,
                "parentAgreement": None,
            },
        )
        return agreement_id

    def additions(self, agreement_id: int, product_id: int | None = None) -> list[dict[str, Any]]:
        return [
            a
            for a in self.sim.records(ADDITIONS)
            if a["agreementId"] == agreement_id
            and (product_id is None or a["product"]["id"] == product_id)
        ]

    def units_on(self, agreement_id: int, product_id: int, day: date) -> int:
        """What ConnectWise bills on `day`: the quantities of the additions in effect (from
        the effective day to the day before the cancelled date) add up."""
        total = 0.0
        for a in self.additions(agreement_id, product_id):
            start = _day(a["effectiveDate"])
            stop = _day(a["cancelledDate"]) if a.get("cancelledDate") else None
            if start is not None and start <= day and (stop is None or day < stop):
                total += float(a["quantity"])
        return int(total)

    def units_between(
        self, agreement_id: int, product_id: int, first: date, last: date
    ) -> list[int]:
        return [
            self.units_on(agreement_id, product_id, first + timedelta(days=i))
            for i in range((last - first).days + 1)
        ]

    def writes(self) -> list[str]:
        return [
            f"{method} {path}"
            for method, path, _ in self.sim.request_log
            if method in ("POST", "PATCH", "PUT", "DELETE")
        ]

    def reads(self) -> list[str]:
        return [f"{method} {path}" for method, path, _ in self.sim.request_log if method == "GET"]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def client_for(http: Any, clock: Clock, **changes: str) -> ConnectWiseClient:
    fields = {
        "company_id": DEFAULT_COMPANY_ID,
        "public_key": DEFAULT_PUBLIC_KEY,
        "private_key": DEFAULT_PRIVATE_KEY,
        "client_id": DEFAULT_CLIENT_ID,
    } | changes
    return ConnectWiseClient(
        Credentials(**fields), http=http, retry=RetryPolicy(sleep=clock.sleep, jitter=0.0)
    )


@contextmanager
def connectwise(config: SimConfig | None = None, **credentials: str) -> Iterator[ConnectWise]:
    """A fresh simulated ConnectWise (seeded) in this process and the adapter on it."""
    clock = Clock()
    app = create_app(config or SimConfig(clock=clock))
    sim: Simulator = app.state.sim
    with sim_http_client(app) as http:
        psa = ConnectWisePsa(client_for(http, clock, **credentials))
        try:
            yield ConnectWise(sim, psa, clock)
        finally:
            psa.close()


def api_credentials(site: str, **changes: str) -> dict[str, str]:
    """The `ConnectWiseCredentialsInput` a partner admin types for the simulator at `site`."""
    return {
        "site": site,
        "companyId": DEFAULT_COMPANY_ID,
        "publicKey": DEFAULT_PUBLIC_KEY,
        "privateKey": DEFAULT_PRIVATE_KEY,
    } | changes
