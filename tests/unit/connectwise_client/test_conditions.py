"""The conditions builder quotes and escapes every value, so data cannot change a query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connectwise_client.conditions import (
    all_of,
    any_of,
    contains,
    eq,
    ge,
    in_,
    like,
    literal,
    ne,
    not_contains,
    not_in,
    quote,
)

pytestmark = pytest.mark.unit


def test_strings_are_double_quoted_with_quotes_and_backslashes_escaped() -> None:
    assert quote("plain") == '"plain"'
    assert quote('Initech "West"') == r'"Initech \"West\""'
    assert quote("a\\b") == r'"a\\b"'
    # A value trying to close the string and add a clause stays one string.
    assert eq("identifier", 'x" or id > 0 or name="y').render() == (
        r'identifier = "x\" or id > 0 or name=\"y"'
    )


def test_values_are_written_as_the_language_documents() -> None:
    assert literal(True) == "true" and literal(False) == "false"
    assert literal(None) == "null"
    assert literal(12) == "12" and literal(Decimal("1.50")) == "1.50"
    assert literal(date(2024, 1, 31)) == "[2024-01-31T00:00:00Z]"
    later = datetime(2024, 1, 1, 10, 30, tzinfo=timezone(timedelta(hours=10)))
    assert literal(later) == "[2024-01-01T00:30:00Z]"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        literal(datetime(2024, 1, 1))


def test_field_paths_are_checked() -> None:
    assert eq("company/id", 5).render() == "company/id = 5"
    for bad in ("name = 1", "a//b", "", "1abc", 'x"'):
        with pytest.raises(ValueError):
            eq(bad, 1)


def test_combinations_parenthesise_what_they_must() -> None:
    active = eq("identifier", "X") & eq("inactiveFlag", False)
    assert active.render() == 'identifier = "X" and inactiveFlag = false'
    either = active | ne("id", 3)
    assert either.render() == '(identifier = "X" and inactiveFlag = false) or id != 3'
    assert (~either).render().startswith("not ((identifier")
    assert all_of(eq("a", 1), eq("b", 2), eq("c", 3)).render() == "(a = 1 and b = 2) and c = 3"
    assert any_of(eq("a", 1)).render() == "a = 1"


def test_lists_and_text_operators() -> None:
    assert in_("id", [1, 2, 3]).render() == "id in (1, 2, 3)"
    assert not_in("identifier", ["a", 'b"']).render() == r'identifier not in ("a", "b\"")'
    assert contains("description", "365").render() == 'description contains "365"'
    assert not_contains("summary", "Low").render() == 'summary not contains "Low"'
    assert like("identifier", "PC_*").render() == 'identifier like "PC_*"'
    assert ge("lastUpdated", datetime(2024, 1, 1, tzinfo=UTC)).render() == (
        "lastUpdated >= [2024-01-01T00:00:00Z]"
    )
    with pytest.raises(ValueError):
        in_("id", [])
