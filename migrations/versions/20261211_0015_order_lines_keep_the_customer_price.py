"""a submitted order line keeps the customer's price too (issue 14)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-11 09:00:00

A customer's contacts with the Order Book see their own orders at the prices they pay (the
RRP), not at the partner's cost. Submitting froze only the partner's unit price
(`order_lines.unit_price`); `order_lines.retail_unit_price` keeps the RRP in force on the
start date beside it, so the customer's view keeps showing what was agreed after the price
list changes. Lines submitted before this migration have none and are shown at the RRP in
force on their start date, as they were priced then. Money columns follow migration 0011:
NUMERIC(20, 6) on PostgreSQL, canonical decimal text on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    money = sa.Text() if op.get_bind().dialect.name == "sqlite" else sa.Numeric(20, 6)
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("retail_unit_price", money, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("retail_unit_price")
