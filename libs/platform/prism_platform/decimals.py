"""Money columns that are exact on every backend: `ExactDecimal`, NUMERIC(20, 6) in effect.

PostgreSQL stores them as NUMERIC(20, 6). SQLite has no exact number type: a NUMERIC column
turns "12345678901234.123456" into the REAL 12345678901234.123 as it is written, so the digits
are gone before anything reads them. On SQLite the column is therefore TEXT, holding the
canonical decimal text: six decimals, no exponent, no negative zero ("12.500000", "-0.010000").
No float is involved on the way in or out, and both backends read back the same `Decimal`.

What SQL may do with a money column on SQLite: test it for equality with a bound value (the
value is bound in the same canonical text) or for NULL. It must not order by it, compare it
with < or >, or add it up (SUM, +): SQLite would compare text or convert to REAL. Do that in
Python, where the values are Decimals. Nothing in Prism does so today.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Numeric, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

PRECISION = 20
#: prism_domain.money.UNIT_PRICE_PLACES: unit prices keep six decimals.
SCALE = 6
_QUANTUM = Decimal(1).scaleb(-SCALE)
_LIMIT = Decimal(10) ** (PRECISION - SCALE)


def canonical(value: Decimal | int | str) -> Decimal:
    """The value as the column keeps it: rounded to `SCALE` decimals half away from zero (as
    PostgreSQL rounds into NUMERIC), never negative zero; a float is a `TypeError`."""
    if isinstance(value, bool | float):
        raise TypeError(f"money must not be a {type(value).__name__}: use Decimal or a string")
    amount = Decimal(value)
    if amount.is_finite() and abs(amount) < _LIMIT:
        amount = amount.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    # Checked after rounding too: 99999999999999.9999995 rounds up to 10^14.
    if not amount.is_finite() or abs(amount) >= _LIMIT:
        raise ValueError(f"{value!r} does not fit NUMERIC({PRECISION}, {SCALE})")
    return amount.copy_abs() if amount.is_zero() else amount


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(20, 6) on PostgreSQL, the canonical decimal text on SQLite (see the module)."""

    impl = Numeric(PRECISION, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            # TEXT affinity: SQLite keeps the text as written and never makes it a REAL.
            text: TypeEngine[Any] = dialect.type_descriptor(Text())
            return text
        numeric: TypeEngine[Any] = dialect.type_descriptor(Numeric(PRECISION, SCALE))
        return numeric

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        amount = canonical(value)
        return format(amount, "f") if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, str):
            return Decimal(value)
        # Only a row written around this type (or not migrated) can hold a number here.
        raise TypeError(f"a money column held a {type(value).__name__}, not decimal text")
