"""Conditions built by the client mean the same in the simulator; paging both ways."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectwise_client import CatalogItem, Reference, ValidationError
from connectwise_client.conditions import (
    contains,
    eq,
    ge,
    gt,
    in_,
    like,
    lt,
    ne,
    not_contains,
    not_in,
)
from connectwise_sim.seed import CUSTOMER_IDS, PRODUCT_TYPE_ID, SUBCATEGORY_ID

pytestmark = pytest.mark.integration


def _items(client, count: int) -> list[int]:
    ids = []
    for n in range(count):
        made = client.catalog.create(
            CatalogItem(
                identifier=f"PC_{n:03d}",
                description=f"Product {n}",
                type=Reference.to(PRODUCT_TYPE_ID),
                subcategory=Reference.to(SUBCATEGORY_ID),
                price=n,
                inactive_flag=n % 3 == 0,
            )
        )
        ids.append(made.id)
    return ids


def identifiers(companies) -> list[str]:
    return [c.identifier for c in companies]


def test_a_quoted_value_with_quotes_inside_finds_its_record(client) -> None:
    assert identifiers(client.companies.list(eq("name", 'Initech "West"'))) == ["Initech"]
    # The same text unescaped would be a syntax error or another query; built, it is a value.
    assert list(client.companies.list(eq("name", 'x" or id > 0 or name = "y'))) == []


def test_operators_and_references(client) -> None:
    c = client.companies
    assert identifiers(c.list(in_("id", CUSTOMER_IDS[:2]))) == ["Acme", "Globex"]
    assert identifiers(c.list(not_in("id", CUSTOMER_IDS))) == ["PrismMSP"]
    assert identifiers(c.list(like("name", "*corp*"))) == ["Globex"]
    assert identifiers(c.list(contains("name", "PTY"))) == ["Acme"]  # case-insensitive
    assert len(list(c.list(not_contains("name", "pty")))) == 3
    assert identifiers(c.list(gt("id", 250) & lt("id", 252))) == ["Globex"]
    assert identifiers(c.list(eq("identifier", "Acme") | eq("identifier", "Initech"))) == [
        "Acme",
        "Initech",
    ]
    assert [a.id for a in client.agreements.of_company(250)] == [301]
    assert [
        a.id
        for a in client.agreements.list(
            eq("type/name", "Managed Services") & ne("cancelledFlag", True)
        )
    ] == [301, 302]


def test_dates_compare_as_instants(client) -> None:
    since = datetime(2025, 3, 1, tzinfo=UTC)
    assert [a.id for a in client.agreements.list(ge("startDate", since))] == [302]


def test_an_unknown_field_or_broken_syntax_is_a_400(client) -> None:
    for bad in ("nosuchfield = 1", 'name = "unclosed', "id = 1 and", "(id = 1"):
        with pytest.raises(ValidationError) as caught:
            list(client.companies.list(bad))
        assert caught.value.status == 400


def test_forward_only_walks_every_record_in_id_order(client, sim) -> None:
    ids = _items(client, 23)
    before = len(sim.request_log)
    walked = [i.id for i in client.catalog.list(ne("identifier", "MS-365-BP"), fields=None)]
    assert walked == ids
    # 23 records at the maximum page size: one request.
    assert len(sim.request_log) - before == 1
    assert client.catalog.count(ne("identifier", "MS-365-BP")) == 23


def test_forward_only_in_small_pages_and_resuming_after_an_id(client) -> None:
    ids = _items(client, 7)
    pages = list(
        client.iterate("procurement/catalog", conditions=eq("inactiveFlag", False), page_size=2)
    )
    assert [p["id"] for p in pages] == [1001] + [i for n, i in enumerate(ids) if n % 3]
    resumed = [i.id for i in client.catalog.list(after_id=ids[3])]
    assert resumed == ids[4:]


def test_navigable_pages_order_and_link_to_the_next(client) -> None:
    _items(client, 5)
    first, page = client.catalog.page(order_by="price desc", page_size=2, fields=["id", "price"])
    assert [float(i.price) for i in first] == [33.0, 4.0]
    assert first[0].identifier is None  # fields= kept only id and price
    assert page.next_url is not None and "page=2" in page.next_url
    seen = [i["id"] for i in page.items]
    while page.next_url:
        page = client._page(client.send("GET", page.next_url))
        seen += [i["id"] for i in page.items]
    assert len(seen) == 6 == len(set(seen))


def test_order_by_is_refused_with_forward_only(client) -> None:
    with pytest.raises(ValidationError, match="orderBy"):
        client.request(
            "GET",
            "procurement/catalog",
            params={"orderBy": "id desc"},
            headers={"pagination-type": "forward-only"},
        )


def test_an_oversized_page_is_clamped_or_refused_as_configured(client, sim_config) -> None:
    _items(client, 3)
    raw = client.request("GET", "procurement/catalog", params={"pageSize": 5000})
    assert len(raw) == 4
    sim_config.max_page_size = 2
    assert len(client.request("GET", "procurement/catalog", params={"pageSize": 5000})) == 2
    sim_config.oversize_page = "400"
    with pytest.raises(ValidationError, match="pageSize"):
        client.request("GET", "procurement/catalog", params={"pageSize": 5000})
