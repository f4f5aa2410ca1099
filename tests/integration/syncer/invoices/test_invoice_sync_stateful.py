"""S10, explored: random sequences of subscription changes, manual edits in Autotask, syncs
that crash at any point or lose Autotask's answer, redelivered events and re-syncs. After
every sync the simulator holds exactly the invoice's units on every day, and every
adjustment Prism made in Autotask is accounted for by exactly one recorded intent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from autotask_sim import SimHandle
from autotask_sim.errors import ApiFailure
from prism_domain.invoicing import InvoiceIssued
from prism_syncer.inbox import process_event
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.invoices.notices import Links
from prism_tables.sync.invoices import InvoiceSyncIntent
from tests.integration.syncer.invoices.support import (
    CRASH_POINTS,
    NOV,
    Line,
    World,
    crash_once,
    month_end,
)
from tests.support.backends import examples
from tests.support.psa import psa_config

pytestmark = pytest.mark.integration

SKUS = ("E3", "E5")


@pytest.fixture
def world(database_url: str, sync_engine: Engine, autotask: SimHandle) -> World:
    return World.create(sync_engine, autotask, skus=SKUS)


def test_the_psa_always_ends_equal_to_the_invoices(world: World) -> None:
    handlers = invoice_handlers(psa_config(world.autotask), Links())

    class InvoiceSyncMachine(RuleBasedStateMachine):
        @initialize(e3=st.integers(1, 9), e5=st.integers(0, 4))
        def new_customer(self, e3: int, e5: int) -> None:
            self.customer = world.customer()
            self.contract = world.contracts[self.customer]
            self.month = NOV
            # Per SKU: (first day offset, quantity) changes within the current month.
            self.changes: dict[str, list[tuple[int, int]]] = {s: [] for s in SKUS}
            self.carried: dict[str, int] = {"E3": e3, "E5": e5}
            self.manual = 0

        @rule(sku=st.sampled_from(SKUS), day=st.integers(0, 27), quantity=st.integers(0, 12))
        def change_quantity(self, sku: str, day: int, quantity: int) -> None:
            self.changes[sku] = [c for c in self.changes[sku] if c[0] != day] + [(day, quantity)]

        @rule(sku=st.sampled_from(SKUS), day=st.integers(0, 27), change=st.integers(-4, 6))
        def edit_in_autotask(self, sku: str, day: int, change: int) -> None:
            if change == 0 or world.contract_service(self.customer, sku) is None:
                return
            try:
                world.autotask.sim.adjust_units(
                    self.contract,
                    world.service_id(sku),
                    change,
                    (self.month + timedelta(days=day)).isoformat(),
                )
            except ApiFailure:
                return  # Autotask refuses units below zero; so does the person
            self.manual += 1

        @rule(crash=st.sampled_from(CRASH_POINTS), redeliver=st.booleans())
        def issue_invoice_and_sync(self, crash: str | None, redeliver: bool) -> None:
            end = month_end(self.month)
            lines, plan = [], {}
            for sku in SKUS:
                steps = sorted({0: self.carried[sku], **dict(self.changes[sku])}.items())
                plan[sku] = steps
                for i, (offset, quantity) in enumerate(steps):
                    stop = steps[i + 1][0] - 1 if i + 1 < len(steps) else (end - self.month).days
                    if quantity:
                        lines.append(
                            Line(
                                self.customer,
                                sku,
                                quantity,
                                self.month + timedelta(days=offset),
                                self.month + timedelta(days=stop),
                            )
                        )
            invoice = world.invoice(self.month, lines)
            if crash is None:
                event = _issued(world, invoice, self.month, end).to_dict()
                process_event(world.engine, event, handlers)
                if redeliver:
                    process_event(world.engine, event, handlers)
            else:
                run_id = world.start(invoice)
                crash_once(world, run_id, crash)
                later = world.syncer(clock=lambda: datetime.now(UTC) + timedelta(minutes=10))
                later.drive(run_id)
                assert world.run(run_id).status in ("SUCCESS", "NO_CHANGE")
            if redeliver:  # a manual re-sync of the same invoice changes nothing
                again = world.sync(invoice)
                assert again.status == "NO_CHANGE", again.message
            self._check(plan, end)
            self.month = end + timedelta(days=1)
            self.carried = {s: plan[s][-1][1] for s in SKUS}
            self.changes = {s: [] for s in SKUS}

        def _check(self, plan: dict[str, list[tuple[int, int]]], end: date) -> None:
            for sku in SKUS:
                got = world.month_units(self.customer, sku, self.month)
                want = []
                for i in range((end - self.month).days + 1):
                    want.append(next(q for o, q in reversed(plan[sku]) if o <= i))
                assert got == want, (sku, self.month)
            made_by_prism = [a for a in world.adjustments() if a["contractID"] == self.contract]
            with Session(world.engine) as session:
                landed = session.scalars(
                    select(InvoiceSyncIntent.id).where(
                        InvoiceSyncIntent.contract_id == self.contract,
                        InvoiceSyncIntent.status.in_(["APPLIED", "CONFIRMED"]),
                    )
                ).all()
            assert len(made_by_prism) - self.manual == len(landed)

    run_state_machine_as_test(
        InvoiceSyncMachine,
        settings=settings(
            max_examples=examples(10),
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def _issued(world: World, invoice: int, start: date, end: date) -> Any:
    return InvoiceIssued(
        aggregate_id=str(invoice),
        invoice_id=invoice,
        partner_id=world.partner,
        program_id=world.program,
        currency="AUD",
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        total="0",
        lines=(),
    ).envelope()
