from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from prism_domain.catalogue import PriceListEntry
from prism_domain.errors import ErrorCode
from prism_domain.money import Money
from prism_domain.orders import (
    OrderDetails,
    OrderLine,
    price_order,
    validate_order,
    validate_submission,
)
from prism_domain.periods import Period

pytestmark = pytest.mark.unit


def aud(text: str) -> Money:
    return Money.of(text, "AUD")


def product(
    sku: str, price: str, term: str = "MONTHLY", kind: str = "LICENCE", **kw: Any
) -> PriceListEntry:
    return PriceListEntry.parse(
        sku=sku,
        name=f"Product {sku}",
        description="",
        buy_price=price,
        rrp=price,
        billing_term=term,
        kind=kind,
        currency=kw.pop("currency", "AUD"),
        **kw,
    )


MAIL = product("MC-EMAIL", "3.3333")
ARCHIVE = product("MC-ARCHIVE", "1.50")
ANNUAL = product("MC-AWARE-Y", "24.00", term="ANNUAL")
SETUP = product("MC-SETUP", "250", kind="ONE_TIME_FEE")
METERED = product("MC-OVERAGE", "0.01", kind="USAGE")


def test_an_order_shows_monthly_annual_one_time_and_first_payments() -> None:
    lines = [
        OrderLine(MAIL, 25),
        OrderLine(ARCHIVE, 25),
        OrderLine(ANNUAL, 5),
        OrderLine(SETUP, 1),
        OrderLine(METERED, 1),
    ]

    quote = price_order(
        lines=lines, start_date=date(2026, 11, 10), permitted_users=25, currency="AUD"
    )

    # 25 x 3.3333 = 83.3325 -> 83.33; 25 x 1.50 = 37.50
    assert quote.ongoing_monthly_payment == aud("120.83")
    assert quote.annual_payment == aud("120.00")
    assert quote.one_time_fees == aud("250.00")
    assert quote.first_period == Period(date(2026, 11, 10), date(2026, 11, 30))
    # monthly lines prorated 21/30: 83.3325 x 0.7 = 58.33275 -> 58.33; 37.5 x 0.7 = 26.25
    assert [line.first_payment_amount for line in quote.lines] == [
        aud("58.33"),
        aud("26.25"),
        aud("120.00"),
        aud("250.00"),
        aud("0"),
    ]
    assert quote.first_payment == aud("454.58")
    assert quote.permitted_users == 25


def test_an_order_starting_on_the_first_pays_a_whole_month() -> None:
    quote = price_order(
        lines=[OrderLine(MAIL, 25)], start_date=date(2026, 11, 1), permitted_users=1, currency="AUD"
    )
    assert quote.first_payment == quote.ongoing_monthly_payment == aud("83.33")


def fields(errors: list[Any]) -> dict[str | None, ErrorCode]:
    return {e.field: e.code for e in errors}


def test_a_draft_needs_sane_lines_but_may_be_empty() -> None:
    retired = product("OLD", "1", retired="yes")
    usd = product("USD-1", "1", currency="USD")
    lines = [OrderLine(MAIL, 0), OrderLine(retired, 1), OrderLine(usd, 1), OrderLine(MAIL, 2)]

    assert fields(validate_order(lines=lines, permitted_users=0, currency="AUD")) == {
        "permitted_users": ErrorCode.OUT_OF_RANGE,
        "lines[0].quantity": ErrorCode.OUT_OF_RANGE,
        "lines[1].sku": ErrorCode.RETIRED,
        "lines[2].sku": ErrorCode.CURRENCY_MISMATCH,
        "lines[3].sku": ErrorCode.DUPLICATE,
    }
    assert validate_order(lines=[], permitted_users=1, currency="AUD") == []


def submit(details: OrderDetails, **kw: Any) -> dict[str | None, ErrorCode]:
    args: dict[str, Any] = {
        "lines": [OrderLine(MAIL, 1)],
        "permitted_users": 1,
        "currency": "AUD",
        "start_date": date(2026, 11, 10),
        "today": date(2026, 11, 9),
    }
    args.update(kw)
    return fields(validate_submission(details, **args))


def test_submitting_needs_an_order_number_and_both_acknowledgements() -> None:
    nothing = OrderDetails(None, False, False, False)
    assert submit(nothing, lines=[], start_date=None) == {
        "lines": ErrorCode.REQUIRED,
        "order_number": ErrorCode.REQUIRED,
        "msa_acknowledged": ErrorCode.REQUIRED,
        "authorised_acknowledged": ErrorCode.REQUIRED,
        "start_date": ErrorCode.REQUIRED,
    }


def test_the_order_number_is_optional_when_marked_not_required() -> None:
    assert submit(OrderDetails("  ", True, True, True)) == {}
    assert submit(OrderDetails("PO-1234", False, True, True)) == {}
    assert submit(OrderDetails("P" * 51, False, True, True)) == {"order_number": ErrorCode.TOO_LONG}


def test_an_order_cannot_start_in_the_past() -> None:
    details = OrderDetails("PO-1", False, True, True)
    assert submit(details, today=date(2026, 11, 11)) == {"start_date": ErrorCode.OUT_OF_RANGE}
