"""an invoice sync can wait for approval: the program setting, the run's approval, and each
job's proposal and decision (issue 16)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-13 09:00:00

With `require_approval` on in a program's sync settings, a run of an issued invoice plans its
adjustments, stores them per contract service (`sync_invoice_jobs.proposal`) and waits in
AWAITING_APPROVAL until a partner admin approves or dismisses them (`decision`, `decided_by`,
`decided_at`); `replanned` counts the times an approved proposal had gone stale and was
shown again. Existing rows: no approval, no proposal.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_program_settings") as batch:
        batch.add_column(
            sa.Column("require_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sync_invoice_runs") as batch:
        batch.add_column(sa.Column("approval", sa.String(20), nullable=True))
    with op.batch_alter_table("sync_invoice_jobs") as batch:
        batch.add_column(sa.Column("proposal", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("decision", sa.String(20), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(255), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("replanned", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_invoice_jobs") as batch:
        for column in ("replanned", "decided_at", "decided_by", "decision", "proposal"):
            batch.drop_column(column)
    with op.batch_alter_table("sync_invoice_runs") as batch:
        batch.drop_column("approval")
    with op.batch_alter_table("sync_program_settings") as batch:
        batch.drop_column("require_approval")
