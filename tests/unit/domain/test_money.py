from __future__ import annotations

from decimal import Decimal

import pytest

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.money import (
    CurrencyMismatchError,
    Money,
    MoneyError,
    exact_amount,
    format_money,
    minor_units,
    parse_amount,
    price_text,
    sum_money,
)

pytestmark = pytest.mark.unit


def aud(text: str) -> Money:
    return Money.of(text, "AUD")


def test_amounts_are_decimals_in_one_currency() -> None:
    total = aud("12.50") + aud("0.25") - aud("1")
    assert total == Money(Decimal("11.75"), "AUD")
    assert aud("3.3333") * 3 == aud("9.9999")
    assert 2 * aud("1.5") == aud("3.0")


@pytest.mark.parametrize("bad", [0.1, 1.0, True])
def test_floats_and_booleans_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        Money.of(bad, "AUD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(bad, "AUD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        aud("1") * bad  # type: ignore[operator]


def test_currencies_never_mix() -> None:
    with pytest.raises(CurrencyMismatchError):
        aud("1") + Money.of("1", "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = aud("1") < Money.of("2", "NZD")
    with pytest.raises(CurrencyMismatchError):
        sum_money([aud("1"), Money.of("1", "USD")], "AUD")


@pytest.mark.parametrize("code", ["aud", "AU", "AUDD", "", "A1D"])
def test_a_currency_is_an_iso_4217_code(code: str) -> None:
    with pytest.raises(MoneyError):
        Money.of("1", code)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e3", "1.234,50", "12,34", "--1", "", " "])
def test_only_plain_decimal_text_is_money(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.of(text, "AUD")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "AUD", "0.13"),
        ("0.135", "AUD", "0.14"),
        ("-0.125", "AUD", "-0.13"),
        ("0.12499", "AUD", "0.12"),
        ("1000.5", "JPY", "1001"),
        ("1.0005", "KWD", "1.001"),
    ],
)
def test_rounding_is_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    rounded = Money.of(amount, currency).rounded()
    assert rounded.to_json() == expected
    assert rounded.is_rounded


def test_minor_units_default_to_cents() -> None:
    assert (minor_units("AUD"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)


def test_money_formats_for_people_and_for_json() -> None:
    assert format_money(aud("1234.5")) == "AUD 1,234.50"
    assert str(aud("-1234.5")) == "AUD -1,234.50"
    assert str(aud("12.345600")) == "AUD 12.3456"
    assert str(Money.of("1000", "JPY")) == "JPY 1,000"
    assert Money(Decimal("1E+2"), "AUD").to_json() == "100"


def test_an_empty_sum_is_zero_in_its_currency() -> None:
    assert sum_money([], "AUD") == Money.zero("AUD")


def parse(text: str | None, **kwargs: bool | int) -> tuple[Decimal | None, list[FieldError]]:
    errors: list[FieldError] = []
    value = parse_amount(text, field="price", label="Price", errors=errors, **kwargs)  # type: ignore[arg-type]
    return value, errors


def test_parsing_user_input_accepts_grouped_digits() -> None:
    assert parse(" 1,234.50 ") == (Decimal("1234.50"), [])
    assert parse("-3", allow_negative=True) == (Decimal("-3"), [])
    assert parse("8.2500000") == (Decimal("8.2500000"), [])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, ErrorCode.REQUIRED),
        ("  ", ErrorCode.REQUIRED),
        ("abc", ErrorCode.INVALID),
        ("1.234,5", ErrorCode.INVALID),
        ("0.1234567", ErrorCode.INVALID),
        ("-1", ErrorCode.OUT_OF_RANGE),
    ],
)
def test_parsing_user_input_reports_a_field_error(text: str | None, code: ErrorCode) -> None:
    value, errors = parse(text)
    assert value is None
    assert [(e.field, e.code) for e in errors] == [("price", code)]


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1234.5", "AUD", "AUD 1,234.50"),
        ("1234", "JPY", "JPY 1,234"),
        ("1234.000000", "JPY", "JPY 1,234"),
        ("1234.5", "KWD", "KWD 1,234.500"),
        ("-0.125", "KWD", "KWD -0.125"),
        ("0.0125", "AUD", "AUD 0.0125"),
    ],
)
def test_an_amount_is_shown_in_its_currencys_minor_unit(
    amount: str, currency: str, shown: str
) -> None:
    assert format_money(Money.of(amount, currency)) == shown


def test_a_total_shown_for_people_is_rounded_to_its_currencys_minor_unit() -> None:
    # A copy that always rounded to two places showed "JPY 1,234.50" and "KWD 1.23".
    assert format_money(Money.of("1234.5", "JPY").rounded()) == "JPY 1,235"
    assert format_money(Money.of("1.2345", "KWD").rounded()) == "KWD 1.235"
    assert format_money(Money.of("1.2345", "AUD").rounded()) == "AUD 1.23"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("8.100000", "AUD", "8.10"),
        ("1200.000000", "JPY", "1200"),
        ("1E+2", "JPY", "100"),
        ("1.5", "KWD", "1.500"),
        ("1.234500", "KWD", "1.2345"),
        ("0.012500", "AUD", "0.0125"),
    ],
)
def test_an_exact_amount_keeps_every_digit_and_at_least_the_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    assert str(exact_amount(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("stored", "text"),
    [("36.000000", "36.00"), ("32.4", "32.40"), ("0.012500", "0.0125"), ("1E+2", "100.00")],
)
def test_price_text_is_exact_and_unchanged_for_stored_records(stored: str, text: str) -> None:
    # The syncer's run items and intents store this text: rows old and new must compare equal.
    assert price_text(Decimal(stored)) == text
