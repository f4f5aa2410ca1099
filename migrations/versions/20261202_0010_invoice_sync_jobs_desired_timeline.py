"""invoice sync jobs carry the desired timeline they are checked against

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_invoice_jobs") as batch:
        batch.add_column(sa.Column("check_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("expected", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_invoice_jobs") as batch:
        batch.drop_column("expected")
        batch.drop_column("check_from")
