from __future__ import annotations

import pytest

from prism_domain.catalogue import ProductKind
from prism_domain.errors import ErrorCode
from prism_domain.money import Money
from prism_domain.price_list_csv import parse_price_list_csv

pytestmark = pytest.mark.unit

HEADER = "SKU,Name,Description,Buy Price,RRP,Billing Term,Kind,Retired\n"


def test_a_good_file_becomes_entries() -> None:
    text = (
        "\ufeff"
        + HEADER
        + 'M365-BB,"Microsoft 365 Business Basic","Per user, monthly",8.25,10.50,MONTHLY,LICENCE,\n'
        + "AZ-PLAN,Azure plan,,0,0,monthly,usage,no\n"
        + "\n"
        + 'ONBOARD,Onboarding,,"1,000.00",1200,MONTHLY,one_time_fee,false\n'
    )

    result = parse_price_list_csv(text, currency="AUD")

    assert result.ok and result.errors == () and result.warnings == ()
    assert [e.sku for e in result.entries] == ["M365-BB", "AZ-PLAN", "ONBOARD"]
    assert result.entries[0].description == "Per user, monthly"
    assert result.entries[1].kind is ProductKind.USAGE
    assert result.entries[2].buy_price == Money.of("1000", "AUD")


def test_bad_rows_are_reported_by_row_and_column() -> None:
    text = (
        HEADER
        + "OK-1,Fine,,1,2,MONTHLY,LICENCE,\n"
        + "BAD 2,,,-1,2,MONTHLY,LICENCE,\n"
        + "OK-3,Short row\n"
        + "ok-1,Duplicate,,1,2,MONTHLY,LICENCE,\n"
        + "LOSS,Below cost,,5,4,ANNUAL,LICENCE,\n"
    )

    result = parse_price_list_csv(text, currency="AUD")

    assert not result.ok
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (3, "sku", ErrorCode.INVALID),
        (3, "name", ErrorCode.REQUIRED),
        (3, "buy_price", ErrorCode.OUT_OF_RANGE),
        (4, None, ErrorCode.INVALID),
        (5, "sku", ErrorCode.DUPLICATE),
    ]
    assert "row 2" in result.errors[-1].message
    assert [e.sku for e in result.entries] == ["OK-1", "LOSS"]
    assert [(w.row, w.column, w.code) for w in result.warnings] == [
        (6, "rrp", ErrorCode.BELOW_COST)
    ]


def test_the_header_must_name_the_required_columns_and_nothing_unknown() -> None:
    result = parse_price_list_csv("sku,name,price,kind\nA,B,1,LICENCE\n", currency="AUD")
    problems = {(e.row, e.column, e.code) for e in result.errors}
    assert (1, "price", ErrorCode.INVALID) in problems
    assert {(1, c, ErrorCode.REQUIRED) for c in ("buy_price", "rrp", "billing_term")} <= problems
    assert result.entries == ()


def test_an_empty_file_is_an_error() -> None:
    result = parse_price_list_csv("", currency="AUD")
    assert [(e.row, e.code) for e in result.errors] == [(1, ErrorCode.REQUIRED)]
