"""Migration 0011 on SQLite: money columns become canonical decimal text, rows kept as read."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from prism_platform.db import make_sync_engine
from prism_platform.migrate import alembic_config, upgrade
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.orders import Order, OrderLine

pytestmark = pytest.mark.integration

NOW = "2026-11-01 00:00:00.000000"


def seed_at_0010(path: Path) -> None:
    """Rows written the way the NUMERIC columns held them: SQLite made REALs and INTEGERs."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(
        f"""
        INSERT INTO organisations (id, kind, name, created_at) VALUES (1, 'PARTNER', 'P', '{NOW}');
        INSERT INTO programs (id, name, currency, created_at) VALUES (1, 'CSP', 'AUD', '{NOW}');
        INSERT INTO customers (id, owner_id, name, name_key, status, created_at, updated_at)
            VALUES (1, 1, 'C', 'c', 'ACTIVE', '{NOW}', '{NOW}');
        INSERT INTO products (id, program_id, sku, sku_key, name, name_key, description,
                              billing_term, kind, retired, created_at, updated_at)
            VALUES (1, 1, 'A', 'a', 'A', 'a', '', 'MONTHLY', 'LICENCE', 0, '{NOW}', '{NOW}');
        INSERT INTO product_prices (product_id, effective_from, buy_price, rrp, created_at)
            VALUES (1, '2026-01-01', '8.100000', '9.000000', '{NOW}');
        INSERT INTO invoices (id, key, partner_id, program_id, period_start, period_end,
                              currency, total, issued_at)
            VALUES (1, 'k', 1, 1, '2026-11-01', '2026-11-30', 'AUD',
                    '12345678901234.123456', '{NOW}');
        INSERT INTO orders (id, customer_id, status, order_number_not_required,
                            msa_acknowledged, authorised_acknowledged, annual_payment,
                            created_at, updated_at)
            VALUES (1, 1, 'DRAFT', 0, 0, 0, '-0.000001', '{NOW}', '{NOW}');
        INSERT INTO order_lines (order_id, position, product_id, quantity, unit_price)
            VALUES (1, 0, 1, 2, NULL);
        INSERT INTO rfi_requests (order_id, customer_id, token_hash, expires_at, created_at)
            VALUES (1, 1, 'h', '{NOW}', '{NOW}');
        """
    )
    db.executemany(
        "INSERT INTO invoice_lines (invoice_id, position, customer_id, kind, period_start,"
        " period_end, quantity, unit_cost, unit_price, amount, description)"
        " VALUES (1, ?, 1, 'SUBSCRIPTION', '2026-11-01', '2026-11-30', ?, ?, ?, ?, '')",
        [(0, "3.000000", "0.100000", "0.200000", 0.1 + 0.2), (1, "1", "2.5", "-0.5", "7")],
    )
    db.commit()
    db.close()


def test_money_columns_become_exact_text_and_no_row_is_lost(tmp_path: Path) -> None:
    # given a database at 0010 whose money columns hold REALs (and lines, order children)
    path = tmp_path / "db.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0010")
    seed_at_0010(path)

    # when it is migrated
    upgrade(url, "0011")

    # then every money value is the canonical text of what was read before, as TEXT
    db = sqlite3.connect(path)
    lines = db.execute(
        "SELECT quantity, unit_cost, unit_price, amount, typeof(amount) FROM invoice_lines"
        " ORDER BY position"
    ).fetchall()
    assert lines == [
        ("3.000000", "0.100000", "0.200000", "0.300000", "text"),
        ("1.000000", "2.500000", "-0.500000", "7.000000", "text"),
    ]
    # the REAL kept 17 digits; those are what the old read returned, and they stay
    assert db.execute("SELECT total FROM invoices").fetchall() == [("12345678901234.123000",)]
    assert db.execute("SELECT annual_payment, first_payment FROM orders").fetchall() == [
        ("-0.000001", None)
    ]
    assert db.execute("SELECT buy_price, rrp FROM product_prices").fetchall() == [
        ("8.100000", "9.000000")
    ]
    # recreating invoices and orders cascaded to nothing
    assert db.execute("SELECT count(*) FROM order_lines").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM rfi_requests").fetchone() == (1,)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()
    engine = make_sync_engine(url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(Invoice.total)) == Decimal("12345678901234.123")
            amounts = session.scalars(select(InvoiceLine.amount).order_by(InvoiceLine.position))
            assert list(amounts) == [Decimal("0.3"), Decimal("7")]
            assert session.scalar(select(Order.annual_payment)) == Decimal("-0.000001")
            assert session.scalar(select(OrderLine.unit_price)) is None
    finally:
        engine.dispose()


def test_it_goes_down_to_numeric_and_up_again(tmp_path: Path) -> None:
    # given a migrated database; when it goes down to 0010 and up again; then values survive
    path = tmp_path / "db.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0010")
    seed_at_0010(path)
    upgrade(url, "0011")

    command.downgrade(alembic_config(url), "0010")
    db = sqlite3.connect(path)
    assert db.execute("SELECT typeof(buy_price), rrp FROM product_prices").fetchall() == [
        ("real", 9)
    ]
    db.close()
    upgrade(url, "0011")
    db = sqlite3.connect(path)
    assert db.execute("SELECT rrp FROM product_prices").fetchall() == [("9.000000",)]
    assert db.execute("SELECT count(*) FROM invoice_lines").fetchone() == (2,)
    db.close()
