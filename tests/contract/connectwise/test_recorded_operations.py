"""The client's calls, recorded against the simulator and replayed: what the adapter will
send and how it reads the answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectwise_client import (
    Addition,
    AuthenticationError,
    CatalogItem,
    DuplicateError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Reference,
    ValidationError,
    patch,
)
from connectwise_client.conditions import eq, like
from connectwise_sim.seed import (
    AGREEMENT_ID,
    CUSTOMER_IDS,
    EXISTING_ADDITION_ID,
    PRODUCT_TYPE_ID,
    SUBCATEGORY_ID,
)

pytestmark = pytest.mark.contract


def _item(identifier: str) -> CatalogItem:
    return CatalogItem(
        identifier=identifier,
        description="Widget seat (monthly)",
        type=Reference.to(PRODUCT_TYPE_ID),
        subcategory=Reference.to(SUBCATEGORY_ID),
        price=Decimal("10.50"),
        cost=Decimal("7.25"),
        recurring_flag=True,
    )


def test_company_info_and_companies(recorded) -> None:
    client = recorded.client
    assert client.base_url() == "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
    names = {c.id: c.name for c in client.companies.list()}
    assert names[CUSTOMER_IDS[2]] == 'Initech "West"'
    assert client.companies.by_identifier("Globex").id == CUSTOMER_IDS[1]
    assert [a.name for a in client.agreements.of_company(CUSTOMER_IDS[0])] == ["Acme Managed"]
    assert [t.name for t in client.agreement_types.list()] == ["Managed Services", "Block Time"]
    assert [t.name for t in client.product_types.list()] == ["Subscription"]


def test_catalog_item_create_find_patch(recorded) -> None:
    client = recorded.client
    made = client.catalog.create(_item("PC_sku_1357"))
    assert made.id is not None and made.category is not None
    assert client.catalog.by_identifier("PC_sku_1357").id == made.id
    assert [i.identifier for i in client.catalog.list(like("identifier", "PC_*"))] == [
        "PC_sku_1357"
    ]
    changed = client.catalog.patch(made.id, CatalogItem(price=Decimal(12), inactive_flag=True))
    assert changed.price == Decimal(12) and changed.inactive_flag is True
    with pytest.raises(DuplicateError):
        client.catalog.create(_item("pc_SKU_1357"))


def test_addition_create_list_patch(recorded) -> None:
    client = recorded.client
    item = client.catalog.create(_item("PC_sku_2468"))
    additions = client.agreements.additions(AGREEMENT_ID)
    made = additions.create(
        Addition(
            product=Reference.to(item.id),
            quantity=Decimal(4),
            bill_customer="Billable",
            effective_date=date(2026, 2, 10),
            invoice_description="Widget seats",
        )
    )
    assert made.unit_price == Decimal("10.5") and made.ext_price == Decimal(42)
    assert [a.id for a in additions.list()] == [EXISTING_ADDITION_ID, made.id]
    changed = additions.patch(made.id, [patch.replace("quantity", 6)])
    assert changed.quantity == Decimal(6)


def test_cancel_and_add_after_billing(recorded) -> None:
    client = recorded.client
    additions = client.agreements.additions(AGREEMENT_ID)
    recorded.backdoor(lambda sim: sim.invoice_month(AGREEMENT_ID, date(2026, 1, 1)))
    with pytest.raises(ValidationError) as caught:
        additions.patch(EXISTING_ADDITION_ID, Addition(quantity=Decimal(15)))
    assert caught.value.fields() == {"quantity"}
    ended = additions.patch(EXISTING_ADDITION_ID, Addition(cancelled_date=date(2026, 2, 10)))
    assert ended.cancelled_date == date(2026, 2, 10)
    new = additions.create(
        Addition(
            product=ended.product,
            quantity=Decimal(15),
            bill_customer="Billable",
            effective_date=date(2026, 2, 10),
        )
    )
    assert new.quantity == Decimal(15)


def test_errors_keep_their_kind(recorded) -> None:
    client = recorded.client
    with pytest.raises(NotFoundError):
        client.catalog.get(999_999)
    with pytest.raises(ValidationError) as caught:
        client.catalog.create(CatalogItem(identifier="X" * 61))
    assert caught.value.fields() == {"identifier", "description", "type", "subcategory"}
    with pytest.raises(ValidationError):
        list(client.companies.list("nosuchfield = 1"))
    wrong = recorded.client_as(private_key="wrong-private-key")
    with pytest.raises(AuthenticationError):
        wrong.companies.get(CUSTOMER_IDS[0])
    recorded.backdoor(lambda sim: sim.deny("catalog", "POST"))
    with pytest.raises(PermissionDeniedError):
        client.catalog.create(_item("PC_denied"))


def test_a_rate_limited_create_is_not_repeated(recorded) -> None:
    client = recorded.client
    client.base_url()

    def limit(sim) -> None:
        sim.config.requests_per_minute = 1

    recorded.backdoor(limit)
    client.companies.get(CUSTOMER_IDS[0])
    with pytest.raises(RateLimitError) as caught:
        client.catalog.create(_item("PC_limited"))
    assert caught.value.retry_after == 60.0


def test_paging_navigable_and_forward_only(recorded) -> None:
    client = recorded.client
    first, page = client.companies.page(page_size=3, order_by="name desc")
    assert [c.identifier for c in first] == ["PrismMSP", "Initech", "Globex"]
    assert page.next_url is not None
    walked = list(
        client.iterate("company/companies", page_size=2, conditions=eq("deletedFlag", False))
    )
    assert [c["id"] for c in walked] == [2, *CUSTOMER_IDS]
