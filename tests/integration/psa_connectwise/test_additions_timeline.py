"""Agreement additions as the port's contract services and unit rows: one contract service per
product on an agreement (named by its first addition), the merged timeline of its additions,
and unit changes made as ConnectWise allows them (add; cancel and add back)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from connectwise_client import Addition, Reference
from connectwise_sim import Fault
from connectwise_sim.entities import ADDITIONS
from connectwise_sim.seed import (
    AGREEMENT_ID,
    CANCELLED_AGREEMENT_ID,
    EXISTING_ADDITION_ID,
    EXISTING_ITEM_ID,
    SECOND_AGREEMENT_ID,
)
from prism_psa.port import (
    ErrorCode,
    NewAdjustment,
    PsaContractRule,
    PsaContractService,
    PsaRuleError,
    PsaUnavailable,
    UnitRow,
)
from tests.support.connectwise import ConnectWise, connectwise

pytestmark = pytest.mark.integration

FEB, FEB_28 = date(2026, 2, 1), date(2026, 2, 28)
PRICE, COST = Decimal("33"), Decimal("26.4")


@pytest.fixture
def cw() -> Iterator[ConnectWise]:
    with connectwise() as world:
        yield world


def change(
    agreement: int, units: int, day: date, product: int = EXISTING_ITEM_ID, **kw: Decimal
) -> NewAdjustment:
    return NewAdjustment(
        contract_id=agreement,
        service_id=product,
        contract_service_id=None,
        effective=day,
        unit_change=units,
        unit_price=kw.get("price", PRICE),
        unit_cost=kw.get("cost", COST),
    )


def add_by_hand(
    cw: ConnectWise, agreement: int, quantity: int, start: date, stop: date | None = None
) -> int:
    record = Addition(
        product=Reference.to(EXISTING_ITEM_ID),
        quantity=Decimal(quantity),
        bill_customer="Billable",
        effective_date=start,
    )
    if stop is not None:
        record.cancelled_date = stop
    made = cw.psa.client.agreements.additions(agreement).create(record)
    return int(made.id or 0)


def test_a_product_on_an_agreement_is_one_contract_service_named_by_its_first_addition(
    cw: ConnectWise,
) -> None:
    later = add_by_hand(cw, AGREEMENT_ID, 3, date(2026, 2, 10))
    assert later > EXISTING_ADDITION_ID

    found = cw.psa.contract_services([AGREEMENT_ID, SECOND_AGREEMENT_ID, 999_999])

    assert found == [PsaContractService(EXISTING_ADDITION_ID, AGREEMENT_ID, EXISTING_ITEM_ID)]


def test_unit_rows_are_the_merged_timeline_of_the_additions(cw: ConnectWise) -> None:
    add_by_hand(cw, AGREEMENT_ID, 3, date(2026, 2, 10), stop=date(2026, 2, 20))
    add_by_hand(cw, AGREEMENT_ID, 2, date(2026, 2, 15))

    rows = cw.psa.unit_rows([AGREEMENT_ID], FEB, FEB_28)

    def row(start: date, end: date, units: int) -> UnitRow:
        return UnitRow(
            EXISTING_ADDITION_ID, AGREEMENT_ID, EXISTING_ITEM_ID, start, end, units, PRICE, COST
        )

    assert rows == [
        row(date(2025, 1, 1), date(2026, 2, 9), 12),
        row(date(2026, 2, 10), date(2026, 2, 14), 15),
        row(date(2026, 2, 15), date(2026, 2, 19), 17),
        row(date(2026, 2, 20), FEB_28, 14),
    ]
    assert cw.psa.unit_rows([AGREEMENT_ID], date(2026, 3, 1), date(2026, 3, 31)) == [
        row(date(2026, 2, 20), date(2026, 3, 31), 14)
    ]
    assert cw.psa.unit_rows([AGREEMENT_ID], date(2024, 1, 1), date(2024, 12, 31)) == []


def test_an_increase_is_a_new_addition_from_its_day(cw: ConnectWise) -> None:
    made = cw.psa.create_adjustment(change(AGREEMENT_ID, 4, date(2026, 2, 10), price=Decimal("30")))

    assert made is not None and made != EXISTING_ADDITION_ID
    assert cw.units_between(
        AGREEMENT_ID, EXISTING_ITEM_ID, date(2026, 2, 8), date(2026, 2, 11)
    ) == [
        12,
        12,
        16,
        16,
    ]
    rows = cw.psa.unit_rows([AGREEMENT_ID], FEB, FEB_28)
    assert [(r.start, r.units, r.unit_price) for r in rows] == [
        (date(2025, 1, 1), 12, PRICE),
        (date(2026, 2, 10), 16, Decimal("30")),  # the latest addition's price
    ]
    assert {r.contract_service_id for r in rows} == {EXISTING_ADDITION_ID}


def test_the_first_increase_puts_the_product_on_the_agreement(cw: ConnectWise) -> None:
    assert cw.psa.contract_services([SECOND_AGREEMENT_ID]) == []

    made = cw.psa.create_adjustment(change(SECOND_AGREEMENT_ID, 5, date(2026, 2, 3)))

    assert cw.psa.contract_services([SECOND_AGREEMENT_ID]) == [
        PsaContractService(int(made or 0), SECOND_AGREEMENT_ID, EXISTING_ITEM_ID)
    ]
    assert cw.psa.create_adjustment(change(SECOND_AGREEMENT_ID, -2, date(2026, 2, 20)))
    # The contract service keeps its id: the first addition's, cancelled or not.
    assert [cs.id for cs in cw.psa.contract_services([SECOND_AGREEMENT_ID])] == [made]


def test_a_decrease_cancels_from_its_day_and_adds_back_what_remains(cw: ConnectWise) -> None:
    second = add_by_hand(cw, AGREEMENT_ID, 3, date(2026, 2, 5))
    cw.sim.invoice_month(AGREEMENT_ID, date(2026, 1, 15))  # January is invoiced, and locked
    cw.sim.request_log.clear()

    made = cw.psa.create_adjustment(
        change(AGREEMENT_ID, -10, date(2026, 2, 12), price=Decimal("0"), cost=Decimal("0"))
    )

    assert cw.units_between(
        AGREEMENT_ID, EXISTING_ITEM_ID, date(2026, 2, 10), date(2026, 2, 13)
    ) == [
        15,
        15,
        5,
        5,
    ]
    additions = {a["id"]: a for a in cw.additions(AGREEMENT_ID)}
    assert additions[EXISTING_ADDITION_ID]["cancelledDate"].startswith("2026-02-12")
    assert additions[second]["cancelledDate"].startswith("2026-02-12")
    assert additions[EXISTING_ADDITION_ID]["quantity"] == 12  # billed history as it was
    assert additions[made]["quantity"] == 5 and additions[made]["effectiveDate"].startswith(
        "2026-02-12"
    )
    # What remains keeps the price it was added at, whatever the decrease says.
    assert (additions[made]["unitPrice"], additions[made]["unitCost"]) == (33.0, 26.4)
    writes = cw.writes()
    assert len(writes) == 3 and sum(w.startswith("POST") for w in writes) == 1


def test_a_decrease_keeps_later_changes_shape(cw: ConnectWise) -> None:
    add_by_hand(cw, AGREEMENT_ID, 3, date(2026, 2, 20))
    add_by_hand(cw, AGREEMENT_ID, 1, date(2026, 2, 8), stop=date(2026, 2, 25))

    cw.psa.create_adjustment(change(AGREEMENT_ID, -4, date(2026, 2, 10)))

    day = {
        d: cw.units_on(AGREEMENT_ID, EXISTING_ITEM_ID, date(2026, 2, d)) for d in (9, 10, 20, 25)
    }
    assert day == {9: 13, 10: 9, 20: 12, 25: 11}
    rows = cw.psa.unit_rows([AGREEMENT_ID], FEB, FEB_28)
    assert [(r.start, r.end, r.units) for r in rows] == [
        (date(2025, 1, 1), date(2026, 2, 7), 12),
        (date(2026, 2, 8), date(2026, 2, 9), 13),
        (date(2026, 2, 10), date(2026, 2, 19), 9),
        (date(2026, 2, 20), date(2026, 2, 24), 12),
        (date(2026, 2, 25), FEB_28, 11),
    ]


def test_a_decrease_to_nothing_adds_nothing_back(cw: ConnectWise) -> None:
    assert cw.psa.create_adjustment(change(AGREEMENT_ID, -12, date(2026, 2, 1))) is None
    assert cw.units_on(AGREEMENT_ID, EXISTING_ITEM_ID, date(2026, 1, 31)) == 12
    assert cw.units_on(AGREEMENT_ID, EXISTING_ITEM_ID, date(2026, 2, 1)) == 0
    assert cw.psa.unit_rows([AGREEMENT_ID], FEB, FEB_28) == []
    assert [cs.id for cs in cw.psa.contract_services([AGREEMENT_ID])] == [EXISTING_ADDITION_ID]


def test_a_decrease_below_zero_writes_nothing(cw: ConnectWise) -> None:
    cw.sim.request_log.clear()
    with pytest.raises(PsaRuleError, match="fewer units"):
        cw.psa.create_adjustment(change(AGREEMENT_ID, -13, date(2026, 2, 1)))
    assert cw.writes() == []


def test_changes_in_an_invoiced_period_are_refused_with_the_way_out(cw: ConnectWise) -> None:
    cw.sim.invoice_month(AGREEMENT_ID, date(2026, 2, 1))

    with pytest.raises(PsaRuleError, match="already been invoiced") as refused:
        cw.psa.create_adjustment(change(AGREEMENT_ID, -2, date(2026, 2, 10)))

    assert "Finance > Invoices" in str(refused.value)
    assert cw.units_on(AGREEMENT_ID, EXISTING_ITEM_ID, date(2026, 2, 10)) == 12


def test_a_day_before_the_agreement_is_outside_the_contract(cw: ConnectWise) -> None:
    with pytest.raises(PsaContractRule) as refused:
        cw.psa.create_adjustment(change(SECOND_AGREEMENT_ID, 2, date(2025, 5, 31)))
    assert refused.value.code is ErrorCode.DATE_OUTSIDE_CONTRACT
    assert "Finance > Agreements" in str(refused.value)

    with pytest.raises(PsaContractRule) as gone:
        cw.psa.create_adjustment(change(999_999, 2, date(2026, 2, 1)))
    assert gone.value.code is ErrorCode.CONTRACT_NOT_USABLE


def test_a_lost_answer_is_unavailable_and_never_repeated(cw: ConnectWise) -> None:
    """A create is never repeated: the sync reads back before writing again."""
    cw.sim.add_fault(Fault(502, method="POST", path="additions"))
    with pytest.raises(PsaUnavailable):
        cw.psa.create_adjustment(change(SECOND_AGREEMENT_ID, 2, date(2026, 2, 1)))
    assert sum(w.startswith("POST") for w in cw.writes()) == 1


def test_a_contract_service_made_ahead_bills_nothing(cw: ConnectWise) -> None:
    made = cw.psa.create_contract_service(SECOND_AGREEMENT_ID, EXISTING_ITEM_ID, PRICE, COST)

    assert (
        cw.psa.create_contract_service(SECOND_AGREEMENT_ID, EXISTING_ITEM_ID, PRICE, COST) == made
    )
    assert cw.psa.contract_services([SECOND_AGREEMENT_ID]) == [
        PsaContractService(made, SECOND_AGREEMENT_ID, EXISTING_ITEM_ID)
    ]
    assert cw.psa.unit_rows([SECOND_AGREEMENT_ID], FEB, FEB_28) == []
    cw.psa.create_adjustment(change(SECOND_AGREEMENT_ID, 3, date(2026, 2, 10)))
    assert [cs.id for cs in cw.psa.contract_services([SECOND_AGREEMENT_ID])] == [made]
    lines = cw.sim.invoice_month(SECOND_AGREEMENT_ID, FEB)
    assert sum(line["amount"] for line in lines) == pytest.approx(round(3 * 33 * 19 / 28, 2))


def test_reads_page_forward_through_many_additions(cw: ConnectWise) -> None:
    for i in range(1_005):  # more than one page of 1,000, as a person's years of changes
        cw.sim.store.put(
            ADDITIONS,
            {
                "id": 10_000 + i,
                "agreementId": SECOND_AGREEMENT_ID,
                "product": {"id": EXISTING_ITEM_ID},
                "quantity": 1.0,
                "unitPrice": 33.0,
                "unitCost": 26.4,
                "billCustomer": "Billable",
                "effectiveDate": f"{(date(2025, 6, 1) + timedelta(days=i % 200)).isoformat()}T00:00:00Z",
                "cancelledDate": None,
            },
        )
    cw.psa.contract_services([AGREEMENT_ID])  # the company's codebase is known by now
    cw.sim.request_log.clear()

    rows = cw.psa.unit_rows([SECOND_AGREEMENT_ID, CANCELLED_AGREEMENT_ID], FEB, FEB_28)

    assert [(r.start, r.end, r.units, r.contract_service_id) for r in rows] == [
        (date(2025, 12, 17), FEB_28, 1_005, 10_000)
    ]
    reads = cw.reads()
    assert len(reads) == 3 and sum(str(SECOND_AGREEMENT_ID) in r for r in reads) == 2


def test_a_decrease_over_additions_a_person_ended_rebuilds_what_remains(cw: ConnectWise) -> None:
    add_by_hand(cw, SECOND_AGREEMENT_ID, 5, FEB, stop=date(2026, 3, 1))
    renewal = add_by_hand(cw, SECOND_AGREEMENT_ID, 5, date(2026, 3, 1))

    made = cw.psa.create_adjustment(change(SECOND_AGREEMENT_ID, -3, date(2026, 2, 10)))

    held = {
        d: cw.units_on(SECOND_AGREEMENT_ID, EXISTING_ITEM_ID, d)
        for d in (date(2026, 2, 9), date(2026, 2, 10), date(2026, 3, 1), date(2026, 6, 1))
    }
    assert list(held.values()) == [5, 2, 2, 2]
    additions = {a["id"]: a for a in cw.additions(SECOND_AGREEMENT_ID)}
    assert additions[renewal]["cancelledDate"].startswith("2026-03-01")  # never in effect
    assert additions[made]["quantity"] == 2 and additions[made]["cancelledDate"] is None


def additions_reads(cw: ConnectWise) -> int:
    return sum(r.endswith("/additions") for r in cw.reads())


def test_a_syncs_read_is_one_request_per_agreement(cw: ConnectWise) -> None:
    """`contract_services` then `unit_rows` (how the sync reads) read each agreement once;
    a write in between, or a later read, asks ConnectWise again."""
    agreements = [AGREEMENT_ID, SECOND_AGREEMENT_ID, CANCELLED_AGREEMENT_ID]
    cw.sim.request_log.clear()

    cw.psa.contract_services(agreements)
    cw.psa.unit_rows(agreements, FEB, FEB_28)

    assert additions_reads(cw) == 3
    cw.psa.contract_services(agreements)
    cw.psa.create_adjustment(change(AGREEMENT_ID, 1, date(2026, 2, 20)))
    cw.sim.request_log.clear()
    rows = cw.psa.unit_rows(agreements, FEB, FEB_28)
    assert [r.units for r in rows] == [12, 13]
    assert additions_reads(cw) == 1  # only the agreement written to
    cw.psa.unit_rows(agreements, FEB, FEB_28)
    assert additions_reads(cw) == 4


def test_contracts_are_read_a_hundred_a_request(cw: ConnectWise) -> None:
    made = [cw.add_agreement() for _ in range(150)]
    cw.psa.contract_services([AGREEMENT_ID])  # the company's codebase is known by now
    cw.sim.request_log.clear()

    found = cw.psa.contracts_by_id([*made, AGREEMENT_ID])

    assert set(found) == {*made, AGREEMENT_ID}
    assert len(cw.reads()) == 2
