"""one vocabulary for sync outcomes; an invoice run's items say what they are about (issue 13)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 12:00:00

Invoice runs' items and jobs used SYNCED / UNCHANGED where product runs say SUCCESS /
NO_CHANGE: they now use the product runs' words. An item's `kind` says whether it is a
customer's overall outcome (CUSTOMER) or one of its services' (SERVICE); until now a row with
neither subscription nor SKU meant the customer's, and existing rows are classified so.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WORDS = (("SYNCED", "SUCCESS"), ("UNCHANGED", "NO_CHANGE"))
_TABLES = ("sync_invoice_run_items", "sync_invoice_jobs")


def _rename(pairs: Sequence[tuple[str, str]]) -> None:
    for table in _TABLES:
        for old, new in pairs:
            op.execute(
                sa.text(f"UPDATE {table} SET outcome = :new WHERE outcome = :old").bindparams(  # noqa: S608 - fixed names
                    old=old, new=new
                )
            )


def upgrade() -> None:
    with op.batch_alter_table("sync_invoice_run_items") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=True))
    op.execute(
        "UPDATE sync_invoice_run_items SET kind = CASE WHEN subscription_id IS NULL"
        " AND sku IS NULL THEN 'CUSTOMER' ELSE 'SERVICE' END"
    )
    with op.batch_alter_table("sync_invoice_run_items") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=10), nullable=False)
    _rename(_WORDS)


def downgrade() -> None:
    _rename([(new, old) for old, new in _WORDS])
    with op.batch_alter_table("sync_invoice_run_items") as batch:
        batch.drop_column("kind")
