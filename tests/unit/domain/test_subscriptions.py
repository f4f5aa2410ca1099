from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from prism_domain.catalogue import BillingTerm
from prism_domain.errors import DomainValidationError, ErrorCode
from prism_domain.periods import Period
from prism_domain.subscriptions import QuantityChange, QuantitySegment, Subscription

pytestmark = pytest.mark.unit

NOV = Period.month(2026, 11)


def sub(**changes: Any) -> Subscription:
    raw: dict[str, Any] = {
        "id": 1,
        "customer_id": 7,
        "sku": "M365-BB",
        "billing_term": BillingTerm.MONTHLY,
        "start": date(2026, 10, 3),
        "quantity": 10,
    }
    raw.update(changes)
    return Subscription.create(**raw)


def errors_of(**changes: Any) -> dict[str | None, ErrorCode]:
    with pytest.raises(DomainValidationError) as info:
        sub(**changes)
    return {e.field: e.code for e in info.value.errors}


def seg(start: int, end: int, quantity: int) -> QuantitySegment:
    return QuantitySegment(Period(date(2026, 11, start), date(2026, 11, end)), quantity)


def test_the_quantity_on_a_day_follows_the_history() -> None:
    s = sub().change_quantity(date(2026, 11, 10), 15).change_quantity(date(2026, 11, 20), 12)
    assert s.quantity_on(date(2026, 10, 2)) == 0
    assert s.quantity_on(date(2026, 11, 9)) == 10
    assert s.quantity_on(date(2026, 11, 10)) == 15
    assert s.quantity_on(date(2027, 1, 1)) == 12
    assert [c.quantity for c in s.history] == [10, 15, 12]


def test_the_latest_recorded_change_wins_on_the_same_day() -> None:
    s = sub().change_quantity(date(2026, 11, 10), 15).change_quantity(date(2026, 11, 10), 4)
    assert s.quantity_on(date(2026, 11, 10)) == 4
    assert s.segments(NOV) == (seg(1, 9, 10), seg(10, 30, 4))


def test_segments_are_constant_quantity_runs_of_the_period() -> None:
    s = (
        sub()
        .change_quantity(date(2026, 11, 10), 15)
        .change_quantity(date(2026, 11, 15), 15)  # no change: merged
        .change_quantity(date(2026, 11, 20), 0)
    )
    assert s.segments(NOV) == (seg(1, 9, 10), seg(10, 19, 15), seg(20, 30, 0))


def test_a_subscription_starting_mid_period_is_billed_from_its_start() -> None:
    s = sub(start=date(2026, 11, 12), quantity=3)
    assert s.segments(NOV) == (seg(12, 30, 3),)
    assert s.segments(Period.month(2026, 10)) == ()


def test_a_cancellation_ends_service_and_shows_as_zero_that_month_only() -> None:
    s = sub().cancel(date(2026, 11, 25))
    assert s.segments(NOV) == (seg(1, 24, 10), seg(25, 30, 0))
    assert s.segments(Period.month(2026, 12)) == ()
    assert s.quantity_on(date(2026, 11, 25)) == 0
    assert not s.is_active_on(date(2026, 11, 25))


def test_changes_replayed_from_storage_need_not_be_in_order() -> None:
    changes = [QuantityChange(date(2026, 11, 20), 2, 2), QuantityChange(date(2026, 11, 10), 5, 1)]
    assert sub(changes=changes) == sub(changes=list(reversed(changes)))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": 0}, {"quantity": ErrorCode.OUT_OF_RANGE}),
        ({"quantity": True}, {"quantity": ErrorCode.INVALID}),
        ({"cancelled_from": date(2026, 10, 1)}, {"cancelled_from": ErrorCode.OUT_OF_RANGE}),
        (
            {"changes": [QuantityChange(date(2026, 10, 1), 5, 1)]},
            {"changes[0].effective_from": ErrorCode.OUT_OF_RANGE},
        ),
        (
            {"changes": [QuantityChange(date(2026, 11, 1), -1, 1)]},
            {"changes[0].quantity": ErrorCode.OUT_OF_RANGE},
        ),
        (
            {
                "changes": [
                    QuantityChange(date(2026, 11, 1), 1, 1),
                    QuantityChange(date(2026, 11, 1), 2, 1),
                ]
            },
            {"changes[1].sequence": ErrorCode.DUPLICATE},
        ),
        (
            {
                "changes": [QuantityChange(date(2026, 12, 1), 1, 1)],
                "cancelled_from": date(2026, 11, 15),
            },
            {"changes[0].effective_from": ErrorCode.OUT_OF_RANGE},
        ),
    ],
)
def test_bad_histories_are_refused(changes: dict[str, Any], expected: dict[str, ErrorCode]) -> None:
    assert errors_of(**changes) == expected


def test_a_change_before_the_start_or_after_cancellation_is_refused() -> None:
    with pytest.raises(DomainValidationError) as info:
        sub().change_quantity(date(2026, 10, 1), 4)
    assert info.value.errors[0].field == "effective_from"
    with pytest.raises(DomainValidationError):
        sub().cancel(date(2026, 11, 1)).change_quantity(date(2026, 11, 2), 4)
    with pytest.raises(DomainValidationError):
        sub().cancel(date(2026, 11, 1)).cancel(date(2026, 11, 2))
    with pytest.raises(DomainValidationError):
        sub().change_quantity(date(2026, 11, 20), 4).cancel(date(2026, 11, 10))


def test_an_annual_term_runs_a_year_from_the_start_date() -> None:
    s = sub(billing_term=BillingTerm.ANNUAL, start=date(2028, 2, 29))
    assert s.term_containing(date(2028, 3, 1)) == Period(date(2028, 2, 29), date(2029, 2, 27))
    assert s.term_containing(date(2029, 2, 28)) == Period(date(2029, 2, 28), date(2030, 2, 27))
    assert sub().term_containing(date(2026, 11, 5)) == NOV


def test_a_drop_to_zero_on_the_first_shows_that_month_and_never_again() -> None:
    dropped = sub().change_quantity(date(2026, 11, 1), 0)
    assert dropped.segments(NOV) == (seg(1, 30, 0),)
    assert dropped.segments(Period.month(2026, 12)) == ()
    cancelled = sub().cancel(date(2026, 11, 1))
    assert cancelled.segments(NOV) == (seg(1, 30, 0),)
    assert cancelled.segments(Period.month(2026, 12)) == ()


def test_a_subscription_cancelled_on_its_start_day_never_shows() -> None:
    assert sub(start=date(2026, 11, 5)).cancel(date(2026, 11, 5)).segments(NOV) == ()


def test_one_change_per_day_and_sequence() -> None:
    s = sub().change_quantity(date(2026, 11, 10), 15, sequence=3)
    with pytest.raises(DomainValidationError) as info:
        s.change_quantity(date(2026, 11, 10), 16, sequence=3)
    assert info.value.errors[0].code is ErrorCode.DUPLICATE
    assert s.change_quantity(date(2026, 11, 10), 15, sequence=3).quantity_on(NOV.end) == 15
