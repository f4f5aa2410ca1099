"""Exact decimals on every backend (money.py: unit prices keep 6 decimals).

PostgreSQL has a real NUMERIC. SQLite has none: SQLAlchemy would go through floats and warn.
Here the column is still declared NUMERIC(20, 6) (the same DDL on both), but on SQLite values
are read back through their shortest text form, which is exact for the at most 15 significant
digits SQLite keeps as REAL (larger values it stores as TEXT, also exact).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

PRECISION = 20
SCALE = 6


class ExactDecimal(TypeDecorator[Decimal]):
    impl = Numeric(PRECISION, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        numeric: Numeric[Any] = Numeric(PRECISION, SCALE, asdecimal=dialect.name != "sqlite")
        result: TypeEngine[Any] = dialect.type_descriptor(numeric)
        return result

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must not be a float")
        if dialect.name == "sqlite":
            return format(Decimal(value), "f")
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def fixed(value: Decimal, min_places: int = 0) -> Decimal:
    """The same number with no needless trailing zeros, at least `min_places` decimals and no
    exponent, so that both backends show "12.50", never "12.500000" or "1.25E+1"."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    places = max(min_places, -exponent)
    return value.quantize(Decimal(1).scaleb(-places))
