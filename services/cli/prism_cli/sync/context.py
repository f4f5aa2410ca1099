"""What every `prism sync` command works with: the worker's settings, the database, the PSA
configuration, and the partner, program, invoice and customer named on the command line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, inspect, make_url, select
from sqlalchemy.orm import Session

from prism_domain.organisations import OrganisationKind
from prism_platform.db import make_sync_engine
from prism_platform.settings import load_settings
from prism_psa.connections import PsaConfig
from prism_psa.invoices import sources
from prism_syncer.invoices.handlers import sync_factory
from prism_syncer.invoices.notices import Links
from prism_syncer.invoices.sync import InvoiceSync
from prism_syncer.settings import SyncerSettings
from prism_tables.catalogue import Program
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation

INVOICE_NUMBER = re.compile(r"(?:INV-(?P<period>\d{6})-)?0*(?P<id>\d+)", re.IGNORECASE)


class UsageError(Exception):
    """Bad arguments, or something named that does not exist (exit code 2)."""


class Refused(Exception):
    """The sync cannot run as asked: sync off, program not set up (exit code 1)."""


@dataclass(frozen=True)
class Named:
    id: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} (#{self.id})"

    def json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name}


@dataclass
class SyncContext:
    settings: SyncerSettings
    engine: Engine
    config: PsaConfig
    links: Links

    @classmethod
    def load(cls) -> SyncContext:
        """From the environment, as the worker reads it (raises ConfigError when invalid)."""
        settings = load_settings(SyncerSettings)
        engine = make_sync_engine(settings.database_url)
        if not inspect(engine).has_table("sync_invoice_runs"):
            shown = make_url(settings.database_url).render_as_string(hide_password=True)
            engine.dispose()
            raise UsageError(
                f"the database {shown} has no sync tables: run `prism migrate` (or `prism dev`)"
                " first, or point DATABASE_URL at Prism's database"
            )
        config = PsaConfig.of(settings, settings.autotask_zone_probe_url)
        return cls(settings, engine, config, settings.links)

    def invoice_sync(self) -> InvoiceSync:
        """The worker's wiring: its PSA opener, connection marking and failure notices."""
        return sync_factory(self.config, self.links)(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def _pick(kind: str, given: str, rows: Iterable[tuple[int, str]]) -> Named:
    """By id (digits), else by name: exact (any case), else the only name containing it."""
    text = given.strip()
    candidates = [Named(int(i), str(n)) for i, n in rows]
    if text.lstrip("#").isdigit():
        wanted = int(text.lstrip("#"))
        for c in candidates:
            if c.id == wanted:
                return c
        raise UsageError(f"no {kind} with id {wanted}")
    key = text.casefold()
    found = [c for c in candidates if c.name.casefold() == key] or [
        c for c in candidates if key and key in c.name.casefold()
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no {kind} named {given!r}")
    shown = ", ".join(str(c) for c in found[:10])
    raise UsageError(f"{kind} {given!r} is ambiguous ({shown}): give its id")


def find_partner(session: Session, given: str) -> Named:
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(
            Organisation.kind == OrganisationKind.PARTNER
        )
    )
    return _pick("partner", given, ((i, n) for i, n in rows))


def find_program(session: Session, given: str) -> Named:
    rows = session.execute(select(Program.id, Program.name))
    return _pick("program", given, ((i, n) for i, n in rows))


def find_customer(session: Session, partner: Named, given: str) -> Named:
    rows = session.execute(
        select(Customer.id, Customer.name).where(Customer.owner_id == partner.id)
    )
    return _pick(f"customer of {partner}", given, ((i, n) for i, n in rows))


def find_invoice(session: Session, partner: Named, program: Named, given: str) -> int:
    """An invoice id or number (INV-<yyyymm>-<id>) of the partner in the program."""
    match = INVOICE_NUMBER.fullmatch(given.strip())
    if match is None:
        raise UsageError(
            f"--invoice {given!r}: give an invoice id or number (e.g. INV-202611-000042)"
        )
    found = sources.invoice(session, int(match["id"]))
    if (
        found is None
        or (found.partner_id, found.program_id) != (partner.id, program.id)
        or (match["period"] and match["period"] != f"{found.period_start:%Y%m}")
    ):
        raise UsageError(f"no invoice {given} of {partner} in {program}")
    return found.id


def names(session: Session, partner_ids: Iterable[int], program_ids: Iterable[int]) -> Names:
    partners, programs = set(partner_ids), set(program_ids)
    return Names(
        {
            int(i): str(n)
            for i, n in session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(partners))
            )
        }
        if partners
        else {},
        {
            int(i): str(n)
            for i, n in session.execute(
                select(Program.id, Program.name).where(Program.id.in_(programs))
            )
        }
        if programs
        else {},
    )


@dataclass(frozen=True)
class Names:
    partners: dict[int, str]
    programs: dict[int, str]

    def partner(self, partner_id: int) -> Named:
        return Named(partner_id, self.partners.get(partner_id, "?"))

    def program(self, program_id: int) -> Named:
        return Named(program_id, self.programs.get(program_id, "?"))
