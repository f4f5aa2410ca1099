"""S10, explored on each PSA (Autotask, ConnectWise): random sequences of subscription
changes, hand edits in the PSA, syncs that crash at any point or lose the PSA's answer,
redelivered events and re-syncs. After every sync the PSA holds exactly the invoice's units
on every day, and every write Prism made to it is accounted for by an intent that landed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prism_domain.invoicing import InvoiceIssued
from prism_domain.sync import PsaKind
from prism_syncer.inbox import process_event
from prism_syncer.invoices.handlers import invoice_handlers
from prism_syncer.invoices.notices import Links
from prism_tables.sync.invoices import InvoiceSyncIntent
from tests.integration.syncer.invoices.support import (
    CRASH_POINTS,
    NOV,
    Line,
    PsaSide,
    World,
    crash_once,
    month_end,
)
from tests.support.backends import examples

pytestmark = pytest.mark.integration

SKUS = ("E3", "E5")
#: Examples per PSA: ConnectWise's later examples grow costly (each decrease cancels and
#: adds back), so it explores fewer and the module stays quick.
EXAMPLES = {PsaKind.AUTOTASK: 10, PsaKind.CONNECTWISE: 6}


@pytest.fixture
def world(database_url: str, sync_engine: Engine, side: PsaSide) -> World:
    """Each PSA in turn, Autotask under each way it may end a split units row (as before)."""
    return World.create(sync_engine, side, skus=SKUS)


def test_the_psa_always_ends_equal_to_the_invoices(world: World) -> None:
    handlers = invoice_handlers(world.side.config(), Links())

    class InvoiceSyncMachine(RuleBasedStateMachine):
        @initialize(e3=st.integers(1, 9), e5=st.integers(0, 4))
        def new_customer(self, e3: int, e5: int) -> None:
            self.customer = world.customer()
            self.contract = world.contracts[self.customer]
            self.month = NOV
            # Per SKU: (first day offset, quantity) changes within the current month.
            self.changes: dict[str, list[tuple[int, int]]] = {s: [] for s in SKUS}
            self.carried: dict[str, int] = {"E3": e3, "E5": e5}
            world.side.clear_log()  # the writes counted are this example's

        @rule(sku=st.sampled_from(SKUS), day=st.integers(0, 27), quantity=st.integers(0, 12))
        def change_quantity(self, sku: str, day: int, quantity: int) -> None:
            self.changes[sku] = [c for c in self.changes[sku] if c[0] != day] + [(day, quantity)]

        @rule(sku=st.sampled_from(SKUS), day=st.integers(0, 27), change=st.integers(-4, 6))
        def edit_in_the_psa(self, sku: str, day: int, change: int) -> None:
            if change == 0 or world.contract_service(self.customer, sku) is None:
                return
            # Refused below zero, by the PSA or by the person; not counted as the sync's.
            world.side.edit_units(
                self.contract, world.service_id(sku), change, self.month + timedelta(days=day)
            )

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
            with Session(world.engine) as session:
                landed = session.scalars(
                    select(InvoiceSyncIntent.id).where(
                        InvoiceSyncIntent.contract_id == self.contract,
                        InvoiceSyncIntent.status.in_(["APPLIED", "CONFIRMED"]),
                    )
                ).all()
            assert world.side.unaccounted(self.contract, len(landed)) == 0

    run_state_machine_as_test(
        InvoiceSyncMachine,
        settings=settings(
            max_examples=examples(EXAMPLES[world.side.kind]),
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
