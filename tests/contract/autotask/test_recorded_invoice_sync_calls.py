"""The invoice sync's Autotask adapter calls (S5, S6, S10), replayed from cassettes recorded
against the simulator: the batched reads, the writes, and each refusal as the port's error
with the action to take."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from autotask_sim.seed import (
    EXISTING_SERVICE_ID,
    EXPIRED_CONTRACT_ID,
    INACTIVE_CONTRACT_ID,
    RECURRING_CONTRACT_ID,
    SECOND_RECURRING_CONTRACT_ID,
    TM_CONTRACT_ID,
)
from prism_domain.sync import ConnectionProblem
from prism_psa.autotask import AutotaskPsa
from prism_psa.port import ErrorCode, NewAdjustment, PsaContractRule, PsaUnauthorized

pytestmark = pytest.mark.contract

NOV_1, NOV_15, NOV_30 = date(2026, 11, 1), date(2026, 11, 15), date(2026, 11, 30)


def adjustment(contract: int, change: int, day: date, cs: int | None = None) -> NewAdjustment:
    return NewAdjustment(
        contract_id=contract,
        service_id=EXISTING_SERVICE_ID,
        contract_service_id=cs,
        effective=day,
        unit_change=change,
        unit_price=Decimal("36.00"),
        unit_cost=Decimal("32.40"),
    )


def test_invoice_sync_reads_and_writes(recorded) -> None:  # type: ignore[no-untyped-def]
    psa = AutotaskPsa(recorded.client)
    contracts = psa.contracts_by_id(
        [RECURRING_CONTRACT_ID, INACTIVE_CONTRACT_ID, TM_CONTRACT_ID, EXPIRED_CONTRACT_ID]
    )
    assert contracts[RECURRING_CONTRACT_ID].active and contracts[RECURRING_CONTRACT_ID].recurring
    assert not contracts[INACTIVE_CONTRACT_ID].active
    assert not contracts[TM_CONTRACT_ID].recurring
    assert contracts[EXPIRED_CONTRACT_ID].end == date(2020, 12, 31)
    assert psa.contract_services([RECURRING_CONTRACT_ID]) == []

    # An adjustment for a service not on the contract adds it (one call, no separate create).
    assert psa.create_adjustment(adjustment(RECURRING_CONTRACT_ID, 5, NOV_1)) is not None
    [cs] = psa.contract_services([RECURRING_CONTRACT_ID])
    assert (cs.contract_id, cs.service_id) == (RECURRING_CONTRACT_ID, EXISTING_SERVICE_ID)
    psa.create_adjustment(adjustment(RECURRING_CONTRACT_ID, 3, NOV_15, cs.id))
    rows = psa.unit_rows([RECURRING_CONTRACT_ID], NOV_1, NOV_30)
    assert [(r.start, r.end, r.units) for r in rows] == [
        (NOV_1, date(2026, 11, 14), 5),
        (NOV_15, NOV_30, 8),
    ]
    # each row with the price and cost per unit Autotask bills it at (the run's detail)
    assert {(r.unit_price, r.unit_cost) for r in rows} == {(Decimal("36.0"), Decimal("32.4"))}

    # Explicitly adding a service to a contract, as the port also allows.
    new_cs = psa.create_contract_service(
        SECOND_RECURRING_CONTRACT_ID, EXISTING_SERVICE_ID, Decimal("36.00"), Decimal("32.40")
    )
    assert [c.id for c in psa.contract_services([SECOND_RECURRING_CONTRACT_ID])] == [new_cs]


def test_invoice_sync_refusals_carry_their_action(recorded) -> None:  # type: ignore[no-untyped-def]
    psa = AutotaskPsa(recorded.client)
    with pytest.raises(PsaContractRule) as outside:
        psa.create_adjustment(adjustment(EXPIRED_CONTRACT_ID, 1, NOV_1))
    assert outside.value.code is ErrorCode.DATE_OUTSIDE_CONTRACT
    assert "Review the contract in Autotask" in str(outside.value)
    for contract in (INACTIVE_CONTRACT_ID, TM_CONTRACT_ID):
        with pytest.raises(PsaContractRule) as unusable:
            psa.create_adjustment(adjustment(contract, 1, NOV_1))
        assert unusable.value.code is ErrorCode.CONTRACT_NOT_USABLE
        assert "Recurring Service" in str(unusable.value)

    recorded.backdoor(lambda sim: sim.deny("ContractServiceAdjustments", "create"))
    with pytest.raises(PsaUnauthorized) as security:
        psa.create_adjustment(adjustment(RECURRING_CONTRACT_ID, 1, NOV_1))
    assert security.value.problem is ConnectionProblem.PERMISSION_DENIED
    assert "security level" in str(security.value)

    recorded.backdoor(lambda sim: sim.lock_user())
    with pytest.raises(PsaUnauthorized) as locked:
        psa.contract_services([RECURRING_CONTRACT_ID])
    assert locked.value.problem is ConnectionProblem.USER_LOCKED
    assert "uncheck Locked" in str(locked.value)
