"""Money (STYLE habit 7; SPEC O3, P1, P3): `Decimal` amounts tied to an ISO 4217 currency.

The rounding rule, the only one in Prism:

* **Unit prices** (buy price, RRP, usage rates) are kept exactly as the price list gives them,
  up to `UNIT_PRICE_PLACES` decimals: distributors publish prices such as 12.3456 and an
  annual price divided by twelve must not lose cents before it is multiplied.
* **Line amounts** are computed at full precision (quantity x unit price x days used / days in
  the period) and rounded **once**, to the currency's minor unit, **half up** (`ROUNDING`).
* **Totals** are sums of rounded line amounts and are never rounded again, so an invoice's
  total always equals the sum of the lines the customer reads.

Half up rather than half even: an invoice is read line by line by a person, who expects
"half a cent rounds up" (as Autotask and spreadsheets do); half even's advantage, no drift
when rounding many times, does not apply because each amount is rounded exactly once.

Floats are refused everywhere (a `TypeError`): 0.1 is not a price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from prism_domain.errors import ErrorCode, FieldError

ROUNDING = ROUND_HALF_UP
UNIT_PRICE_PLACES = 6
DEFAULT_MINOR_UNITS = 2
#: Decimals a price keeps at least in stored text (`price_text`), whatever its currency.
RECORD_PLACES = 2
# ISO 4217 currencies whose minor unit is not the cent; every other code has two decimals.
_MINOR_UNITS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "UGX": 0,
    "VND": 0,
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Digits with an optional sign and decimals; thousands separators only in groups of three, so
# a European "1.234,50" is refused instead of being read as 1.2345.
_AMOUNT = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")

DecimalLike = Decimal | int | str


class MoneyError(ValueError):
    """A programming error with money: malformed amount or currency code."""


class CurrencyMismatchError(MoneyError):
    """Two currencies met in one calculation; Prism never converts silently."""


# Codes already found well formed: every Money checks its currency, and a billing run makes
# hundreds of thousands of them in a handful of currencies. At most 26^3 entries.
_WELL_FORMED: set[str] = set()


def check_currency(code: str) -> str:
    """An ISO 4217 alphabetic code in upper case, or `MoneyError`."""
    if type(code) is str and code in _WELL_FORMED:
        return code
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise MoneyError(f"{code!r} is not an ISO 4217 currency code")
    if type(code) is str:
        _WELL_FORMED.add(code)
    return code


def minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit (2 for AUD, 0 for JPY, 3 for KWD)."""
    return _MINOR_UNITS.get(check_currency(currency), DEFAULT_MINOR_UNITS)


def to_decimal(value: DecimalLike) -> Decimal:
    """A finite `Decimal` from a Decimal, an int or a plain decimal string; never from a float."""
    if isinstance(value, bool | float):
        raise TypeError(f"money must not be a {type(value).__name__}: use Decimal or a string")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.match(text):
            raise MoneyError(f"{value!r} is not a decimal amount")
        result = Decimal(text.replace(",", ""))
    else:
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite amount")
    return result


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Apply the rounding rule: to the currency's minor unit, half up."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUNDING)


def unpadded(value: Decimal, min_places: int = 0) -> Decimal:
    """The same number, never rounded: without the padding a database adds ("36.000000" is
    36), with at least `min_places` decimals and never in exponent form ("1E+2" is 100)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # money is finite
    return value.quantize(Decimal(1).scaleb(-max(min_places, -exponent)))


def exact_amount(amount: Decimal, currency: str) -> Decimal:
    """An amount in `currency` as Prism shows it: exact, with at least the currency's minor
    unit (AUD 8.1 is 8.10, JPY 1200.000000 is 1200, KWD 1.5 is 1.500); a unit price with more
    decimals keeps them (AUD 0.0125)."""
    return unpadded(amount, minor_units(currency))


def price_text(value: Decimal) -> str:
    """A price as text in the syncer's records (job targets, intents, run items) and the CLI:
    exact, without padding, at least `RECORD_PLACES` decimals ("36.00", "32.40", "0.0125").

    The same for every currency, on purpose: these strings are stored and compared with rows
    written earlier, so their format must not change; they are records, not display."""
    return format(unpadded(value, RECORD_PLACES), "f")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Arithmetic is exact; rounding happens only in `rounded()`."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be a Decimal, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise MoneyError("Money.amount must be finite")
        check_currency(self.currency)

    @classmethod
    def of(cls, value: DecimalLike, currency: str) -> Money:
        return cls(to_decimal(value), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            raise TypeError(f"Money can only be multiplied by Decimal or int, not {factor!r}")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def rounded(self) -> Money:
        """The amount under the rounding rule (minor unit, half up)."""
        return Money(round_amount(self.amount, self.currency), self.currency)

    @property
    def is_rounded(self) -> bool:
        return self.amount == round_amount(self.amount, self.currency)

    def to_json(self) -> str:
        """The amount as a plain decimal string, never in exponent form ("1234.50")."""
        return format(self.amount, "f")

    def __str__(self) -> str:
        return format_money(self)


def sum_money(values: Iterable[Money], currency: str) -> Money:
    """Sum in one currency; an empty sum is zero in that currency, not an error.

    The same additions, in the same order, as `Money.__add__` one value at a time, and the
    same errors, without a Money for every partial sum (an invoice has thousands of lines)."""
    total = Money.zero(currency)
    amount = total.amount
    for value in values:
        if not isinstance(value, Money):
            raise TypeError(f"cannot combine Money with {type(value).__name__}")
        if value.currency != currency:
            raise CurrencyMismatchError(f"cannot combine {currency} with {value.currency}")
        amount = amount + value.amount
    return Money(amount, currency)


def format_money(value: Money) -> str:
    """For people: code, sign, grouped digits, at least the minor unit ("AUD -1,234.50",
    "JPY 1,000", "KWD 1.500"); never rounds (round first with `Money.rounded` for a total)."""
    return f"{value.currency} {exact_amount(value.amount, value.currency):,f}"


def parse_amount(
    value: str | None,
    *,
    field: str,
    label: str,
    errors: list[FieldError],
    max_places: int = UNIT_PRICE_PLACES,
    allow_negative: bool = False,
) -> Decimal | None:
    """Read user input ("1,234.5") into a Decimal, recording REQUIRED / INVALID / OUT_OF_RANGE."""
    text = (value or "").strip()
    if not text:
        errors.append(FieldError(field, ErrorCode.REQUIRED, f"{label} is required."))
        return None
    try:
        amount = to_decimal(text)
    except (MoneyError, InvalidOperation):
        errors.append(
            FieldError(
                field,
                ErrorCode.INVALID,
                f"{label} must be a decimal number such as 1234.50 (got '{text[:40]}').",
            )
        )
        return None
    # Trailing zeros are not precision: a spreadsheet's "8.2500000" is 8.25.
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite by to_decimal
    if -exponent > max_places:
        errors.append(
            FieldError(
                field, ErrorCode.INVALID, f"{label} has more than {max_places} decimal places."
            )
        )
        return None
    if amount < 0 and not allow_negative:
        errors.append(FieldError(field, ErrorCode.OUT_OF_RANGE, f"{label} must not be negative."))
        return None
    return amount
