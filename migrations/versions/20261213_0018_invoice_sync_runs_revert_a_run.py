"""an invoice sync run can revert an earlier one (issue 16, "Revert a run")

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-13 09:00:00

A REVERT run writes the compensating adjustments that put every contract service an earlier
run changed back to the units it held before it; `sync_invoice_runs.reverts_run_id` names the
run it reverts. Unique: a run is reverted at most once (docs/psa-sync.md, Reverting a run).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_invoice_runs") as batch:
        batch.add_column(sa.Column("reverts_run_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_sync_invoice_runs_reverts_run_id", ["reverts_run_id"])
        batch.create_foreign_key(
            "fk_sync_invoice_runs_reverts_run_id_sync_invoice_runs",
            "sync_invoice_runs",
            ["reverts_run_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_invoice_runs") as batch:
        batch.drop_constraint("fk_sync_invoice_runs_reverts_run_id_sync_invoice_runs", type_="foreignkey")
        batch.drop_constraint("uq_sync_invoice_runs_reverts_run_id", type_="unique")
        batch.drop_column("reverts_run_id")
