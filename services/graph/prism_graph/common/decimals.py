"""How the API shows decimals. The exact money column type, `ExactDecimal`, lives in
`prism_platform.decimals` (both services read money columns); it is re-exported here.

`fixed` is `prism_domain.money.unpadded`: the same number with no needless trailing zeros, at
least `min_places` decimals and no exponent, so that both backends show "12.50", never
"12.500000" or "1.25E+1". An amount in a currency goes through `exact_amount` instead."""

from __future__ import annotations

from prism_domain.money import unpadded as fixed
from prism_platform.decimals import ExactDecimal

__all__ = ["ExactDecimal", "fixed"]
