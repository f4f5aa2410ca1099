"""money columns exact on SQLite: canonical decimal text instead of NUMERIC (REAL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00

PostgreSQL keeps NUMERIC(20, 6): nothing changes there. On SQLite a NUMERIC column stores
values as REAL (15 significant digits), so each money column becomes TEXT holding the
canonical decimal text that `prism_platform.decimals.ExactDecimal` reads and writes (six
decimals, no exponent, no negative zero). Existing values are converted the way they were
read until now (a REAL through its shortest repr), then rounded to six decimals half away
from zero, as PostgreSQL rounds into NUMERIC(20, 6).

Recreating `invoices` and `orders` would cascade to their child rows if SQLite enforced
foreign keys, so env.py runs SQLite migrations with them off (and checks them afterwards);
this migration refuses to run otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMERIC = sa.Numeric(precision=20, scale=6)
# table: (money column, nullable)
MONEY_COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "invoices": (("total", False),),
    "invoice_lines": (
        ("quantity", False),
        ("unit_cost", False),
        ("unit_price", False),
        ("amount", False),
    ),
    "usage_records": (("quantity", False), ("unit_cost", False), ("unit_price", False)),
    "charges": (("unit_cost", False), ("unit_price", False)),
    "product_prices": (("buy_price", False), ("rrp", False)),
    "orders": (
        ("ongoing_monthly_payment", True),
        ("annual_payment", True),
        ("one_time_fees", True),
        ("first_payment", True),
    ),
    "order_lines": (("unit_price", True),),
}


def _canonical(value: object) -> str | None:
    """The stored value as ExactDecimal's text: a REAL exactly as the old read gave it."""
    if value is None:
        return None
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    amount = amount.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return format(amount.copy_abs() if amount.is_zero() else amount, "f")


def _require_foreign_keys_off(bind: sa.Connection) -> None:
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "SQLite enforces foreign keys on this connection: recreating invoices and orders "
            "would delete their lines. Run it through `prism migrate` (env.py turns them off)."
        )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    _require_foreign_keys_off(bind)
    for name, columns in MONEY_COLUMNS.items():
        table = sa.table(name, sa.column("id"), *(sa.column(c) for c, _ in columns))
        # Read before the table is recreated: the copy would CAST the REALs to 15 digits.
        rows = [
            {"row_id": row.id, **{f"new_{c}": _canonical(row._mapping[c]) for c, _ in columns}}
            for row in bind.execute(sa.select(table)).all()
        ]
        with op.batch_alter_table(name) as batch:
            for column, nullable in columns:
                batch.alter_column(
                    column, type_=sa.Text(), existing_type=NUMERIC, existing_nullable=nullable
                )
        if rows:
            bind.execute(
                table.update()
                .where(table.c.id == sa.bindparam("row_id"))
                .values({c: sa.bindparam(f"new_{c}") for c, _ in columns}),
                rows,
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    _require_foreign_keys_off(bind)
    for name, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(name) as batch:
            for column, nullable in columns:
                batch.alter_column(
                    column, type_=NUMERIC, existing_type=sa.Text(), existing_nullable=nullable
                )
