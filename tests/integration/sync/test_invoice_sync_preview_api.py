"""S5's money-level preview through the GraphQL API, against the simulator of each PSA: the
exact adjustments a sync would write now, with their prorated amounts per adjustment and per
customer; it writes nothing, and the run started next writes exactly what it showed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from prism_domain.catalogue import BillingTerm
from tests.integration.syncer.invoices.support import NOV, Line, World, month_end
from tests.support.graphql import GraphQLClient
from tests.support.identity import Tenants, gid
from tests.support.psa import add_product, add_program
from tests.support.sides import AutotaskSide, PsaSide

pytestmark = pytest.mark.integration

OCT = date(2026, 10, 1)
PREVIEW = """query($p: ID!, $i: ID, $c: ID) {
  invoiceSyncPreview(programId: $p, invoiceId: $i, customerId: $c) {
    errors { field code message }
    preview { invoice { id } currency amount adjustmentCount
      customers { customerId customerName amount costAmount adjustmentCount
        services { sku psaContractId psaServiceId psaContractServiceId
          autotaskContractId autotaskServiceId autotaskContractServiceId
          billedThrough amount costAmount
          adjustments { effectiveDate unitChange unitPrice unitCost unitsBefore unitsAfter
            amount costAmount } } }
      notSynced { customerId sku code message } } } }"""


def partner_a_world(engine: Engine, side: PsaSide, tenants: Tenants) -> World:
    autotask = side.handle if isinstance(side, AutotaskSide) else None
    world = World(engine, autotask, partner=tenants.a.id, psa=side)
    world.program = add_program(engine)
    side.connect(engine, world.partner, world.program)
    for short in ("E3", "BP"):
        world.products[short] = add_product(engine, world.program, f"{short}-{tenants.a.id}")
    world.product_sync()
    return world


def written(world: World) -> list[tuple[str, ...]]:
    """The unit changes in the simulator. Autotask: its adjustments (effective date, unit
    change, price, cost). ConnectWise: its additions (effective date, cancelled date,
    quantity, price, cost): a change is written as additions cancelled and added."""
    if isinstance(world.side, AutotaskSide):
        return sorted(
            (
                str(a["effectiveDate"])[:10],
                int(a["unitChange"]),
                f"{Decimal(str(a['adjustedUnitPrice'])):.2f}",
                f"{Decimal(str(a['adjustedUnitCost'])):.2f}",
            )
            for a in world.adjustments()
        )
    return sorted(
        (
            str(a["effectiveDate"])[:10],
            str(a["cancelledDate"] or "")[:10],
            str(int(a["quantity"])),
            f"{Decimal(str(a['unitPrice'])):.2f}",
            f"{Decimal(str(a['unitCost'])):.2f}",
        )
        for a in world.adjustments()
    )


def billed_per_day(service: dict[str, Any]) -> list[int]:
    """The units of each day of November the preview's adjustments of a service leave."""
    changes = service["adjustments"]
    units = [changes[0]["unitsBefore"]] * 30
    for change in changes:
        for day in range(int(change["effectiveDate"][-2:]) - 1, 30):
            units[day] = change["unitsAfter"]
    return units


def shown(preview: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    return sorted(
        (a["effectiveDate"], a["unitChange"], a["unitPrice"], a["unitCost"])
        for c in preview["customers"]
        for s in c["services"]
        for a in s["adjustments"]
    )


async def test_the_preview_shows_every_adjustment_with_its_prorated_amount_and_writes_nothing(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = partner_a_world(sync_engine, psa_side, tenants)
    customer, other = world.customer(), world.customer()
    october = world.invoice(
        OCT,
        [Line(customer, "E3", 5, OCT, month_end(OCT)), Line(other, "E3", 2, OCT, month_end(OCT))],
    )
    assert world.sync(october).status == "SUCCESS"
    # November: 8 licences to the 15th, then 6; the other customer's 2 become 3; an annual
    # licence is not synced.
    mid = date(2026, 11, 16)
    november = world.invoice(
        NOV,
        [
            Line(customer, "E3", 8, NOV, date(2026, 11, 15)),
            Line(customer, "E3", 6, mid, month_end(NOV)),
            Line(other, "E3", 3, NOV, month_end(NOV), price="10.00", cost="9.00"),
            Line(other, "BP", 1, NOV, month_end(NOV), term=BillingTerm.ANNUAL),
        ],
    )
    before = (written(world), world.writes())

    data = await side_api.as_(tenants.a.admin).data(
        PREVIEW, {"p": gid("Program", world.program), "i": gid("Invoice", november)}
    )

    result = data["invoiceSyncPreview"]
    assert result["errors"] == []
    preview = result["preview"]
    assert preview["invoice"]["id"] == gid("Invoice", november)
    assert preview["currency"] == "AUD"
    by_customer = {c["customerId"]: c for c in preview["customers"]}
    mine = by_customer[gid("Customer", customer)]
    (service,) = mine["services"]
    assert service["sku"] == world.sku("E3")
    assert service["psaContractId"] == world.contracts[customer]
    assert service["psaServiceId"] == world.service_id("E3")
    assert service["psaContractServiceId"] == world.contract_service(customer, "E3")
    # the deprecated Autotask-named fields still answer, the same
    assert (
        service["autotaskContractId"],
        service["autotaskServiceId"],
        service["autotaskContractServiceId"],
    ) == (service["psaContractId"], service["psaServiceId"], service["psaContractServiceId"])
    assert service["billedThrough"] == "2026-11-30"
    # +3 for the whole of November: 3 x 36.00; -2 from the 16th: 15 of 30 days of 2 x 36.00
    assert service["adjustments"] == [
        {
            "effectiveDate": "2026-11-01",
            "unitChange": 3,
            "unitPrice": "36.00",
            "unitCost": "32.40",
            "unitsBefore": 5,
            "unitsAfter": 8,
            "amount": "108.00",
            "costAmount": "97.20",
        },
        {
            "effectiveDate": "2026-11-16",
            "unitChange": -2,
            "unitPrice": "36.00",
            "unitCost": "32.40",
            "unitsBefore": 8,
            "unitsAfter": 6,
            "amount": "-36.00",
            "costAmount": "-32.40",
        },
    ]
    assert (service["amount"], mine["amount"], mine["costAmount"]) == ("72.00", "72.00", "64.80")
    assert mine["adjustmentCount"] == 2
    theirs = by_customer[gid("Customer", other)]
    assert [a["amount"] for s in theirs["services"] for a in s["adjustments"]] == ["10.00"]
    assert (preview["amount"], preview["adjustmentCount"]) == ("82.00", 3)
    assert [(s["customerId"], s["code"]) for s in preview["notSynced"]] == [
        (gid("Customer", other), "ANNUAL_SKIPPED")
    ]
    # a preview only reads
    assert (written(world), world.writes()) == before

    # the run started now writes exactly the adjustments shown: the PSA then bills, each day,
    # the units the preview said
    assert world.sync(november).status == "SUCCESS"
    for who, row in ((customer, mine), (other, theirs)):
        (shown_service,) = row["services"]
        assert world.month_units(who, "E3", NOV) == billed_per_day(shown_service)
    new = [a for a in written(world) if a not in before[0]]
    if isinstance(world.side, AutotaskSide):  # one adjustment per change, as shown
        assert sorted(new) == shown(preview)
    else:  # ConnectWise: additions at the shown prices from the shown days (cancel-and-add)
        assert {(a[0], a[3], a[4]) for a in new} == {(a[0], a[2], a[3]) for a in shown(preview)}


async def test_a_preview_of_one_customer_and_of_a_synced_invoice(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = partner_a_world(sync_engine, psa_side, tenants)
    customer, other = world.customer(), world.customer()
    invoice = world.invoice(
        NOV,
        [Line(customer, "E3", 4, NOV, month_end(NOV)), Line(other, "E3", 1, NOV, month_end(NOV))],
    )
    as_a = side_api.as_(tenants.a.admin)
    variables = {"p": gid("Program", world.program), "c": gid("Customer", customer)}

    data = await as_a.data(PREVIEW, variables)  # the latest invoice by default

    preview = data["invoiceSyncPreview"]["preview"]
    assert [c["customerId"] for c in preview["customers"]] == [gid("Customer", customer)]
    (adjustment,) = preview["customers"][0]["services"][0]["adjustments"]
    # no contract service yet: the first adjustment adds it
    assert preview["customers"][0]["services"][0]["psaContractServiceId"] is None
    assert (adjustment["unitsBefore"], adjustment["unitsAfter"]) == (0, 4)
    assert adjustment["amount"] == "144.00"

    world.sync(invoice)
    again = await as_a.data(PREVIEW, {**variables, "i": gid("Invoice", invoice)})
    synced = again["invoiceSyncPreview"]["preview"]
    assert (synced["customers"], synced["amount"], synced["adjustmentCount"]) == ([], "0.00", 0)


async def test_a_preview_that_cannot_be_made_says_why(
    side_api: GraphQLClient, tenants: Tenants, sync_engine: Engine, psa_side: PsaSide
) -> None:
    world = partner_a_world(sync_engine, psa_side, tenants)
    customer = world.customer()
    invoice = world.invoice(NOV, [Line(customer, "E3", 4, NOV, month_end(NOV))])
    program = gid("Program", world.program)

    async def errors(token: str, **variables: Any) -> list[tuple[str | None, str]]:
        data = await side_api.as_(token).data(PREVIEW, {"p": program, **variables})
        assert data["invoiceSyncPreview"]["preview"] is None
        return [(e["field"], e["code"]) for e in data["invoiceSyncPreview"]["errors"]]

    admin = tenants.a.admin
    assert await errors(admin, i=gid("Invoice", 999999)) == [("invoiceId", "NOT_FOUND")]
    assert await errors(admin, c=gid("Customer", 999999)) == [("customerId", "NOT_FOUND")]
    assert await errors(admin, p=gid("Program", 999999)) == [("programId", "NOT_FOUND")]
    # another partner's invoice is not found: nothing of it shows
    assert await errors(tenants.b.admin, i=gid("Invoice", invoice)) != []
    world.settings(sync_enabled=False)
    assert await errors(admin) == [("programId", "NOT_ALLOWED")]
