"""InvoiceLine.from_payload: money read from the invoice tables stays exact (issue 12)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prism_psa.invoices.values import InvoiceLine

pytestmark = pytest.mark.unit


def payload(**money: object) -> dict[str, object]:
    return {
        "customer_id": 1,
        "subscription_id": None,
        "sku": "A",
        "kind": "SUBSCRIPTION",
        "billing_term": "MONTHLY",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        "quantity": Decimal("3.000000"),
        "unit_cost": Decimal("12345678901234.123456"),
        "unit_price": Decimal("0.3"),
        "amount": Decimal("0.1"),
        **money,
    }


def test_an_invoice_line_takes_its_money_as_given_without_a_float() -> None:
    line = InvoiceLine.from_payload(payload())
    assert line.unit_cost == Decimal("12345678901234.123456")
    assert (line.quantity, line.unit_price, line.amount) == (3, Decimal("0.3"), Decimal("0.1"))
    assert InvoiceLine.from_payload(payload(unit_price="0.30")).unit_price == Decimal("0.3")


@pytest.mark.parametrize("field", ["quantity", "unit_cost", "unit_price", "amount"])
def test_a_float_reaching_an_invoice_line_is_an_error(field: str) -> None:
    with pytest.raises(TypeError):
        InvoiceLine.from_payload(payload(**{field: 0.1 + 0.2}))
