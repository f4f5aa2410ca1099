"""ExactDecimal, the money column type: canonical text on SQLite, NUMERIC on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from prism_domain.money import UNIT_PRICE_PLACES
from prism_platform.decimals import SCALE, ExactDecimal, canonical

pytestmark = pytest.mark.unit

SQLITE = sqlite.dialect()
POSTGRESQL = postgresql.dialect()


def test_the_column_keeps_the_places_unit_prices_have() -> None:
    assert SCALE == UNIT_PRICE_PLACES


def test_sqlite_declares_text_and_postgresql_numeric_20_6() -> None:
    table = Table("t", MetaData(), Column("price", ExactDecimal()))
    assert "price TEXT" in str(CreateTable(table).compile(dialect=SQLITE))
    assert "price NUMERIC(20, 6)" in str(CreateTable(table).compile(dialect=POSTGRESQL))


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (Decimal("12345678901234.123456"), "12345678901234.123456"),
        (Decimal("0.1") + Decimal("0.2"), "0.300000"),
        (Decimal("12.5"), "12.500000"),
        (Decimal("1.25E+1"), "12.500000"),
        (Decimal("-0"), "0.000000"),
        (Decimal("-0.0000001"), "0.000000"),
        (Decimal("0.0000005"), "0.000001"),  # half away from zero, as PostgreSQL rounds
        (Decimal("-0.0000005"), "-0.000001"),
        (7, "7.000000"),
        ("99999999999999.999999", "99999999999999.999999"),
    ],
)
def test_sqlite_stores_the_canonical_text(value: Decimal | int | str, stored: str) -> None:
    bound = ExactDecimal().process_bind_param(value, SQLITE)
    assert bound == stored
    assert ExactDecimal().process_result_value(bound, SQLITE) == Decimal(stored)


def test_the_text_read_back_is_the_decimal_postgresql_gives() -> None:
    read = ExactDecimal().process_result_value("12.500000", SQLITE)
    assert isinstance(read, Decimal) and read.as_tuple() == Decimal("12.500000").as_tuple()
    assert ExactDecimal().process_bind_param(Decimal("8.1"), POSTGRESQL) == Decimal("8.100000")


@pytest.mark.parametrize("value", [0.1, 12345678901234.123, True])
def test_a_float_is_refused_on_the_way_in(value: object) -> None:
    with pytest.raises(TypeError):
        ExactDecimal().process_bind_param(value, SQLITE)
    with pytest.raises(TypeError):
        ExactDecimal().process_bind_param(value, POSTGRESQL)


def test_a_float_is_refused_on_the_way_out() -> None:
    with pytest.raises(TypeError):
        ExactDecimal().process_result_value(0.3, SQLITE)


@pytest.mark.parametrize(
    "value", ["100000000000000", "-99999999999999.9999995", "1e30", "NaN", "Infinity"]
)
def test_what_numeric_20_6_cannot_hold_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        canonical(Decimal(value))
