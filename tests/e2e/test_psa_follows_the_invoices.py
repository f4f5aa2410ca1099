"""The PSA equals the invoices on every day, whatever order things happen in (S5, S10, S11).

Each case is a partner admin's story through the GraphQL API (orders, quantity changes,
billing runs, "sync" buttons), the outbox, the relay and the worker, against each PSA's
simulator (`side`: Autotask under both ways it may end a unit row split by an adjustment,
the day before the change or on the change day as its documentation words it; and
ConnectWise, whose agreement additions are ended and added), with hand edits a person makes
in the PSA in between.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dramatiq
import pytest

from connectwise_sim.entities import CATALOG
from connectwise_sim.seed import AGREEMENT_ID
from prism_domain.sync import PsaKind
from prism_graph.outbox.relay import Relay
from tests.conftest import drain
from tests.integration.orders.support import (
    CHANGE_QUANTITY,
    SUBMIT_DETAILS,
    create_order,
    make_catalogue,
    order_input,
    program_of,
    start_next_month,
    submit_order,
)
from tests.integration.sync.mapping_support import (
    CONTOSO_CONTRACT,
    add_customer,
    connect,
    map_to_contract,
    program_sync,
)
from tests.support.clock import freeze, noon_utc
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants
from tests.support.psa import days, invoiced_by_day, month_of
from tests.support.sides import AutotaskSide, ConnectWiseSide, PsaSide

pytestmark = pytest.mark.e2e

RUN_BILLING = """mutation($m: String!) {
  runBilling(input: { month: $m }) { issued { id } errors { field code message } } }"""
SYNC_INVOICES = """mutation($input: SyncInvoicesInput!) {
  syncInvoices(input: $input) { requested invoice { id } errors { code message } } }"""
INVOICE = """query($id: ID!) { invoice(id: $id) { id periodStart periodEnd
  lines { sku kind billingTerm periodStart periodEnd quantity customer { id } } } }"""
LAST_RUN = """query($p: ID!) { invoiceSyncRuns(programId: $p, first: 1) { edges { node {
  trigger status adjustmentsApplied invoice { id }
  customers { customer { id } outcome subscriptions { sku outcome code message } }
  reconciliation { sku asOf invoiceUnits psaUnits matches } } } } }"""


#: The contract each PSA's seed holds for its first customer: Contoso's Recurring Service
#: contract in Autotask, Acme's agreement in ConnectWise.
CONTRACT = {PsaKind.AUTOTASK: CONTOSO_CONTRACT, PsaKind.CONNECTWISE: AGREEMENT_ID}


def service_named(side: PsaSide, name: str) -> int:
    """The id of the PSA's service (Autotask) or catalog item (ConnectWise) named `name`."""
    if isinstance(side, ConnectWiseSide):
        return int(next(i for i in side.cw.sim.records(CATALOG) if i["identifier"] == name)["id"])
    assert isinstance(side, AutotaskSide)
    return int(next(s for s in side.handle.sim.records("Services") if s["name"] == name)["id"])


def next_month(day: date, n: int = 1) -> date:
    for _ in range(n):
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day


@dataclass
class Story:
    """A partner admin with one customer on a monthly licence, mapped to the PSA seed's
    contract, and what the partner can do about it."""

    msp: GraphQLClient
    distributor: GraphQLClient
    side: PsaSide
    program: str
    customer: str
    subscription: str
    start: date  # the licence's first day: the 10th of next month
    deliver: Callable[[], None]
    monkeypatch: pytest.MonkeyPatch
    invoices: dict[date, str]  # month -> invoice id
    sku: str = ""

    async def change(self, quantity: int, effective: date) -> None:
        changed = await self.msp.data(
            CHANGE_QUANTITY,
            {
                "input": {
                    "id": self.subscription,
                    "quantity": quantity,
                    "effectiveFrom": effective.isoformat(),
                }
            },
        )
        assert changed["changeSubscriptionQuantity"]["errors"] == []

    async def bill(self, month: date) -> str | None:
        """The distributor bills a month once it is over; the issued invoice syncs. A month
        in which nothing is billed issues no invoice."""
        first, last = month_of(month)
        freeze(self.monkeypatch, noon_utc(last + timedelta(days=1)))
        billed = await self.distributor.data(RUN_BILLING, {"m": f"{first:%Y-%m}"})
        assert billed["runBilling"]["errors"] == []
        self.deliver()
        if not billed["runBilling"]["issued"]:
            return None
        (issued,) = billed["runBilling"]["issued"]
        self.invoices[first] = issued["id"]
        if not self.sku:
            invoice = await self.invoice(first)
            self.sku = next(ln["sku"] for ln in invoice["lines"] if ln["billingTerm"] == "MONTHLY")
        return str(issued["id"])

    async def sync(self, month: date | None = None) -> dict[str, Any]:
        """The customers card's SYNC button: the latest invoice, or the given month's."""
        wanted: dict[str, Any] = {"programId": self.program}
        if month is not None:
            wanted["invoiceId"] = self.invoices[month_of(month)[0]]
        synced = await self.msp.data(SYNC_INVOICES, {"input": wanted})
        assert synced["syncInvoices"]["errors"] == [], synced
        self.deliver()
        return await self.last_run()

    async def last_run(self) -> dict[str, Any]:
        runs = await self.msp.data(LAST_RUN, {"p": self.program})
        node: dict[str, Any] = runs["invoiceSyncRuns"]["edges"][0]["node"]
        return node

    async def invoice(self, month: date) -> dict[str, Any]:
        found = await self.msp.data(INVOICE, {"id": self.invoices[month_of(month)[0]]})
        invoice: dict[str, Any] = found["invoice"]
        return invoice

    async def invoiced(self, month: date) -> list[int]:
        """The month's invoice quantity of the licence on each day (0 where no line)."""
        invoice = await self.invoice(month)
        lines = [
            (ln["periodStart"], ln["periodEnd"], ln["quantity"])
            for ln in invoice["lines"]
            if ln["sku"] == self.sku and (ln["customer"] or {}).get("id") == self.customer
        ]
        return invoiced_by_day(lines, *month_of(month))

    def hand_edit(self, change: int, effective: date) -> None:
        """A person changes the units in the PSA by hand from `effective` on."""
        self.side.edit_units(self.contract, self._service_id(), change, effective)

    def units(self, month: date) -> list[int]:
        """What the PSA bills on each day of the month."""
        service = self._service_id()
        return [self.side.units_on(self.contract, service, day) for day in days(*month_of(month))]

    def writes(self) -> int:
        """The sync's writes to the contract so far."""
        return self.side.writes(self.contract)

    @property
    def contract(self) -> int:
        return CONTRACT[self.side.kind]

    def _service_id(self) -> int:
        return service_named(self.side, f"PC_{self.sku}")

    async def assert_follows_the_invoices(self, *months: date) -> None:
        """Each month's units equal its invoice's (a month without an invoice: the last
        quantity of the month before carried on)."""
        carried = 0
        for month in months:
            if month_of(month)[0] in self.invoices:
                want = await self.invoiced(month)
            else:
                want = [carried] * month_of(month)[1].day
            assert self.units(month) == want, month
            carried = want[-1]


@pytest.fixture
async def story(
    side_api: GraphQLClient,
    client: GraphQLClient,
    tenants: Tenants,
    side: PsaSide,
    relay: Relay,
    broker: dramatiq.Broker,
    side_worker: dramatiq.Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> Story:
    api = side_api
    msp = api.as_(tenants.a.admin)

    def deliver() -> None:
        while relay.publish_pending():
            pass
        drain(broker, side_worker)

    catalogue = await make_catalogue(client)
    program = await program_of(client, catalogue.monthly)
    await connect(api, tenants.a.admin, side)
    await program_sync(api, tenants.a.admin, program, enabled=True, side=side)
    await msp.data(
        "mutation($p: ID!) { syncProducts(input: {programId: $p}) { requested } }", {"p": program}
    )
    deliver()
    customer = await add_customer(
        api, tenants.a.admin, program, "Woodgrove Dental", tenant="woodgrove.onmicrosoft.com"
    )
    start = start_next_month(10)
    order = await create_order(msp, customer, **order_input(catalogue, start))
    submitted = await submit_order(msp, order["order"]["id"], **SUBMIT_DETAILS)
    assert submitted["errors"] == []
    monthly = next(
        line["subscription"]["id"]
        for line in submitted["order"]["lines"]
        if line["subscription"] is not None and line["billingTerm"] == "MONTHLY"
    )
    company, _ = side.mapped_company()
    await map_to_contract(msp, program, customer, company, CONTRACT[side.kind])
    # Another customer of the partner, not synced, keeps an invoice issued every month.
    bystander = await add_customer(
        api, tenants.a.admin, program, "Tailspin Toys", tenant="tailspin.onmicrosoft.com"
    )
    other = await create_order(msp, bystander, **order_input(catalogue, start))
    assert (await submit_order(msp, other["order"]["id"], **SUBMIT_DETAILS))["errors"] == []
    return Story(
        msp=msp,
        distributor=api.as_(tenants.distributor.admin),
        side=side,
        program=program,
        customer=customer,
        subscription=monthly,
        start=start,
        deliver=deliver,
        monkeypatch=monkeypatch,
        invoices={},
    )


Step = Callable[[], Awaitable[None]]


async def test_days_before_a_products_first_line_in_a_month_are_corrected(story: Story) -> None:
    """Case 1: the licence goes to 0 in month 2 and back to 40 on the 15th of month 4; a hand
    edit adds 2 units from the 13th of month 4. After month 4's sync no day holds units that
    no invoice line bills."""
    m1 = month_of(story.start)[0]
    m2, m3, m4 = next_month(m1), next_month(m1, 2), next_month(m1, 3)
    await story.change(0, m2.replace(day=12))
    await story.change(40, m4.replace(day=15))
    for month in (m1, m2, m3):
        await story.bill(month)
    story.hand_edit(2, m4.replace(day=13))

    await story.bill(m4)

    assert await story.invoiced(m4) == [0] * 14 + [40] * (month_of(m4)[1].day - 14)
    await story.assert_follows_the_invoices(m1, m2, m3, m4)
    run = await story.last_run()
    assert run["status"] == "SUCCESS" and all(r["matches"] for r in run["reconciliation"])


async def test_a_product_that_leaves_the_invoice_is_set_to_zero(story: Story) -> None:
    """Case 2: the licence is cancelled (0 seats) from the 14th of month 1; a hand edit adds 2
    units from the 3rd of month 2. Month 2's invoice has no line for it, and its sync takes the
    PSA back to 0."""
    m1 = month_of(story.start)[0]
    m2 = next_month(m1)
    await story.change(0, m1.replace(day=14))
    await story.bill(m1)
    story.hand_edit(2, m2.replace(day=3))

    await story.bill(m2)

    assert set(await story.invoiced(m2)) == {0}
    assert set(story.units(m2)) == {0}
    await story.assert_follows_the_invoices(m1, m2)
    run = await story.last_run()
    assert run["status"] == "SUCCESS", run
    (woodgrove,) = [c for c in run["customers"] if c["customer"]["id"] == story.customer]
    (item,) = [s for s in woodgrove["subscriptions"] if s["sku"] == story.sku]
    assert item["outcome"] == "SUCCESS" and "Not on this invoice" in item["message"]


async def test_re_syncing_an_older_invoice_leaves_later_months_right(story: Story) -> None:
    """Case 3: four months billed and synced; a hand edit of +2 on the 3rd of month 2; the
    latest invoice synced, then month 2's: every month ends equal to its invoice."""
    m1 = month_of(story.start)[0]
    months = [m1, next_month(m1), next_month(m1, 2), next_month(m1, 3)]
    await story.change(12, months[1].replace(day=5))
    await story.change(15, months[3].replace(day=20))
    for month in months:
        await story.bill(month)
    story.hand_edit(2, months[1].replace(day=3))

    latest = await story.sync()
    # The latest invoice's run does not plan month 2: it says the PSA differs there.
    assert latest["status"] == "WARNING", latest
    assert not all(r["matches"] for r in latest["reconciliation"])
    invoiced = await story.invoiced(months[1])
    assert story.units(months[1]) == [q + 2 if i >= 2 else q for i, q in enumerate(invoiced)]

    older = await story.sync(months[1])

    assert older["status"] == "SUCCESS", older
    assert all(r["matches"] for r in older["reconciliation"])
    await story.assert_follows_the_invoices(*months)
    again = await story.sync(months[1])
    assert again["status"] == "NO_CHANGE" and again["adjustmentsApplied"] == 0


async def test_billing_an_earlier_month_after_a_later_one_keeps_both_right(story: Story) -> None:
    """Case 4: month 2 is billed (and synced) first, then month 1: the PSA holds each month's
    invoice, and month 2 is not moved by month 1's sync."""
    m1 = month_of(story.start)[0]
    m2 = next_month(m1)
    await story.change(14, m1.replace(day=20))
    await story.change(11, m2.replace(day=8))
    await story.bill(m2)
    await story.assert_follows_the_invoices(m2)

    await story.bill(m1)

    await story.assert_follows_the_invoices(m1, m2)
    assert story.units(m2) == await story.invoiced(m2)
    run = await story.last_run()
    assert run["status"] == "SUCCESS" and all(r["matches"] for r in run["reconciliation"])


async def test_change_days_are_read_right_and_re_syncs_never_creep(story: Story) -> None:
    """Case 5: mid-month changes, then the same invoice synced again and again. Whichever day
    Autotask ends the old row on, Prism reads the new row's units on the change day, so a
    re-sync writes nothing and the units never creep up."""
    m1 = month_of(story.start)[0]
    m2 = next_month(m1)
    await story.change(14, m1.replace(day=20))
    await story.change(9, m2.replace(day=6))
    await story.change(16, m2.replace(day=21))
    await story.bill(m1)
    await story.bill(m2)
    written = story.writes()

    for _ in range(3):
        again = await story.sync(m1)
        assert again["status"] == "NO_CHANGE", again
    assert story.writes() == written
    await story.assert_follows_the_invoices(m1, m2)
