"""How the API shows decimals. The exact money column type, `ExactDecimal`, lives in
`prism_platform.decimals` (both services read money columns); it is re-exported here."""

from __future__ import annotations

from decimal import Decimal

from prism_platform.decimals import ExactDecimal

__all__ = ["ExactDecimal", "fixed"]


def fixed(value: Decimal, min_places: int = 0) -> Decimal:
    """The same number with no needless trailing zeros, at least `min_places` decimals and no
    exponent, so that both backends show "12.50", never "12.500000" or "1.25E+1"."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    places = max(min_places, -exponent)
    return value.quantize(Decimal(1).scaleb(-places))
