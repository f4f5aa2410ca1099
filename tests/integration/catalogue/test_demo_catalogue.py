"""The demo data holds a realistic Microsoft CSP price list and subscriptions for the demo
customers (issue 6 item 5); loading it again changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from prism_domain.catalogue import BillingTerm, ProductKind
from prism_graph.database import Database
from prism_graph.demo import load_demo_data
from prism_graph.identity.secrets import Passwords
from prism_tables.catalogue import Product
from prism_tables.subscriptions import Subscription

pytestmark = pytest.mark.integration


async def test_the_demo_catalogue_is_a_csp_price_list_and_reloading_adds_nothing(
    database: Database,
) -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1)

    first = await load_demo_data(database, passwords)
    again = await load_demo_data(database, passwords)

    async with database.engine.connect() as conn:
        products = (
            await conn.execute(select(Product.kind, Product.billing_term, Product.retired))
        ).all()
        subscriptions = int(await conn.scalar(select(func.count()).select_from(Subscription)) or 0)
    assert first["products"] == len(products) >= 300
    assert {term for _, term, _ in products} == set(BillingTerm)
    assert sum(1 for kind, _, _ in products if kind is ProductKind.USAGE) == 1
    assert 0 < sum(1 for _, _, retired in products if retired) < 30
    assert first["subscriptions"] == subscriptions > 5
    assert again["products"] == again["subscriptions"] == 0


async def test_demo_customers_billed_for_months_are_active_and_the_rest_prospects(
    database: Database,
) -> None:
    from prism_domain.customers import CustomerStatus
    from prism_tables.customers import Customer

    await load_demo_data(database, Passwords(time_cost=1, memory_kib=8, parallelism=1))

    async with database.engine.connect() as conn:
        subscribed = set((await conn.execute(select(Subscription.customer_id))).scalars())
        statuses = {row.id: row.status for row in await conn.execute(select(Customer))}
    assert subscribed and set(statuses) > subscribed  # some of each
    for customer_id, status in statuses.items():
        expected = CustomerStatus.ACTIVE if customer_id in subscribed else CustomerStatus.PROSPECT
        assert status is expected, customer_id
