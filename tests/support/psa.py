"""Helpers for PSA sync tests (issue 7): the Autotask simulator on loopback, a partner's
catalogue, connection and settings written straight to the shared database."""

from __future__ import annotations

import calendar
import random
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from autotask_sim import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    SimConfig,
    SimHandle,
    serve_in_thread,
)
from connectwise_sim import DEFAULT_CLIENT_ID as CW_CLIENT_ID
from prism_domain.catalogue import BillingTerm, ProductKind
from prism_domain.organisations import OrganisationKind
from prism_psa.connections import PsaConfig
from prism_psa.secrets import CredentialCipher
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.organisations import Organisation
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection

_random = random.SystemRandom()
TEST_SECRET_KEY = "test-secret-key-for-psa-credentials-0123456789"
RECURRING_CODE_ID = 29682801  # autotask_sim.seed
VENDOR_COMPANY_ID = 174


@contextmanager
def serve_simulator(tmp_path: Path, **config: Any) -> Iterator[SimHandle]:
    """A fresh Autotask simulator on a free loopback port (no threshold latency: tests stay
    fast), with `config` for the variants it plays (e.g. `unit_row_end`).

    Each one is a database of its own (its own zone `ci`), as two partners' Autotask
    instances are: the request budget the workers count per database in Redis (N3) is then
    never shared between tests, nor between test runs on one Redis within the hour."""
    config.setdefault("ci", _random.randrange(3_000_000, 10_000_000))
    handle = serve_in_thread(
        "127.0.0.1",
        0,
        tmp_path / "autotask.sqlite3",
        config=SimConfig(threshold_latency=False, **config),
    )
    try:
        yield handle
    finally:
        handle.stop()


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of `day`'s month."""
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def units_by_day(unit_rows: Iterable[Mapping[str, Any]], first: date, last: date) -> list[int]:
    """What Autotask bills on each day from `first` to `last`, from a contract service's
    ContractServiceUnits rows: the units of the latest-starting row covering the day (0
    where none does)."""
    rows = sorted(unit_rows, key=lambda r: str(r["startDate"]))
    out = []
    for day in days(first, last):
        text = day.isoformat()
        covering = [r for r in rows if str(r["startDate"])[:10] <= text <= str(r["endDate"])[:10]]
        out.append(int(covering[-1]["units"]) if covering else 0)
    return out


def invoiced_by_day(
    lines: Iterable[tuple[date | str, date | str, Any]], first: date, last: date
) -> list[int]:
    """The quantity invoice lines (period start, period end, quantity) bill on each day
    from `first` to `last` (0 where no line): what the PSA must hold (S5)."""
    spans = [(str(start)[:10], str(end)[:10], int(quantity)) for start, end, quantity in lines]
    return [
        sum(q for start, end, q in spans if start <= day.isoformat() <= end)
        for day in days(first, last)
    ]


def probe_url(handle: SimHandle) -> str:
    return handle.url + "/ATServicesRest/"


#: What the tests' API and workers are told of ConnectWise: the simulator's clientId, and
#: that a loopback http site (a simulator's) is allowed.
CONNECTWISE_SETTINGS: dict[str, Any] = {
    "connectwise_client_id": SecretStr(CW_CLIENT_ID),
    "connectwise_allow_http_loopback": True,
}


def psa_config(handle: SimHandle) -> PsaConfig:
    return PsaConfig(
        CredentialCipher(TEST_SECRET_KEY),
        zone_probe_url=probe_url(handle),
        connectwise_client_id=CW_CLIENT_ID,
        connectwise_allow_http_loopback=True,
    )


@dataclass
class Catalogue:
    partner_id: int
    program_id: int
    products: dict[str, int]  # sku -> id


def add_partner(engine: Engine, name: str = "Partner") -> int:
    with Session(engine) as session, session.begin():
        org = Organisation(
            kind=OrganisationKind.PARTNER, name=name, domain=f"{uuid.uuid4().hex[:8]}.example"
        )
        session.add(org)
        session.flush()
        return org.id


def add_program(engine: Engine) -> int:
    with Session(engine) as session, session.begin():
        program = Program(name=f"Microsoft CSP {uuid.uuid4().hex[:6]}", currency="AUD")
        session.add(program)
        session.flush()
        return program.id


def add_product(
    engine: Engine,
    program_id: int,
    sku: str,
    *,
    buy: str = "8.10",
    rrp: str = "9.00",
    description: str = "",
    retired: bool = False,
    effective_from: date = date(2026, 1, 1),
) -> int:
    with Session(engine) as session, session.begin():
        product = Product(
            program_id=program_id,
            sku=sku,
            sku_key=sku.casefold(),
            name=f"Product {sku}",
            name_key=f"product {sku}".casefold(),
            description=description,
            billing_term=BillingTerm.MONTHLY,
            kind=ProductKind.LICENCE,
            retired=retired,
        )
        session.add(product)
        session.flush()
        session.add(
            ProductPrice(
                product_id=product.id,
                effective_from=effective_from,
                buy_price=Decimal(buy),
                rrp=Decimal(rrp),
            )
        )
        return product.id


def set_price(engine: Engine, product_id: int, *, buy: str, rrp: str, day: date) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            ProductPrice(
                product_id=product_id, effective_from=day, buy_price=Decimal(buy), rrp=Decimal(rrp)
            )
        )


def connect(
    engine: Engine,
    partner_id: int,
    *,
    secret: str = DEFAULT_SECRET,
    username: str = DEFAULT_USERNAME,
) -> None:
    cipher = CredentialCipher(TEST_SECRET_KEY)
    with Session(engine) as session, session.begin():
        session.add(
            PsaConnection(
                partner_id=partner_id,
                psa="AUTOTASK",
                username=username,
                secret_encrypted=cipher.encrypt(secret),
                integration_code_encrypted=cipher.encrypt(DEFAULT_INTEGRATION_CODE),
                status="OK",
            )
        )


def configure(
    engine: Engine,
    partner_id: int,
    program_id: int,
    *,
    mode: str = "ALL",
    enabled: bool = True,
    billing_code_id: int | None = RECURRING_CODE_ID,
) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            ProgramSyncSettings(
                partner_id=partner_id,
                program_id=program_id,
                sync_enabled=enabled,
                product_sync_mode=mode,
                sync_azure_usage=False,
                billing_code_id=billing_code_id,
                notification_emails=[],
            )
        )
